"""The async store: one driver per process, managed transactions with retries, clear errors.

The driver is created by whoever owns the process (FastAPI's lifespan, a CLI command, a test
fixture) with :func:`open_driver` and handed to :class:`GraphStore`; the store never closes a
driver it did not create. Repositories run their Cypher through the one set of helpers of
:class:`QueryRunner` — :meth:`~QueryRunner.fetch`, :meth:`~QueryRunner.fetch_one` (read
transactions, routed to readers on a cluster), :meth:`~QueryRunner.execute`,
:meth:`~QueryRunner.execute_all` and :meth:`~QueryRunner.write_batches` (write
transactions) — which use the driver's managed transactions: transient errors (deadlocks,
lock timeouts, leader switches) are retried with back-off by the driver for up to
``neo4j_max_transaction_retry_seconds``; each retry is logged here. Tests of the Cypher
builders run the same repositories on a recording runner instead, with no database.
"""

from __future__ import annotations

import abc
import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Concatenate, LiteralString, ParamSpec, TypeVar

from neo4j import (
    AsyncDriver,
    AsyncGraphDatabase,
    AsyncManagedTransaction,
    SummaryCounters,
    unit_of_work,
)
from neo4j.exceptions import (
    AuthError,
    ConfigurationError,
    DriverError,
    IncompleteCommit,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
)
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from graph.errors import (
    AuthenticationFailedError,
    CommitFailedError,
    CrkgError,
    DatabaseError,
    DatabaseUnavailableError,
    QueryFailedError,
    QueryTimeoutError,
    WriteOutcomeUnknownError,
    closed_transport,
)
from graph.lost_commits import LOST_COMMIT_RETRIES, retry_lost_commits
from graph.settings import CrkgSettings

logger = logging.getLogger(__name__)
_tracer = trace.get_tracer("crkg.graph.store")

P = ParamSpec("P")
_SHORTEST_TIMEOUT = 0.05  # seconds
T = TypeVar("T")

TransactionWork = Callable[Concatenate[AsyncManagedTransaction, P], Awaitable[T]]
Row = dict[str, Any]
Statement = tuple[LiteralString, Mapping[str, Any]]
BatchCallback = Callable[[int, int], Awaitable[None] | None]
ExecutedCheck = Callable[[Sequence["Executed"]], None]


@dataclass(frozen=True)
class Executed:
    """What a write statement returned: its records and the server's update counters."""

    records: list[Row]
    counters: SummaryCounters = field(default_factory=lambda: SummaryCounters({}))
    # run again after a lost commit (execute_idempotent): what it returned describes the
    # second run only; the first may already have made the changes
    repeated: bool = False

    def single(self) -> Row:
        if len(self.records) != 1:
            raise QueryFailedError("write", None, f"{len(self.records)} records, expected one")
        return self.records[0]

    def count(self, column: str = "written") -> int:
        """The integer ``column`` of the one record (0 when the statement returned none)."""
        return int(self.records[0][column] or 0) if self.records else 0


class QueryRunner(abc.ABC):
    """The one set of transaction helpers every repository runs its Cypher through.

    ``operation`` names the work in logs, errors and the API's round-trip counts; parameters
    travel as keyword arguments (never formatted into the statement).
    """

    @abc.abstractmethod
    async def fetch(self, operation: str, query: LiteralString, /, **params: Any) -> list[Row]:
        """Every record of a read, as dicts."""

    @abc.abstractmethod
    async def fetch_one(self, operation: str, query: LiteralString, /, **params: Any) -> Row | None:
        """The first record of a read (None when there is none)."""

    @abc.abstractmethod
    async def execute(self, operation: str, query: LiteralString, /, **params: Any) -> Executed:
        """One statement in a write transaction (it may run more than once: keep it pure)."""

    async def execute_idempotent(
        self, operation: str, query: LiteralString, /, **params: Any
    ) -> Executed:
        """:meth:`execute` of a statement that may run twice with the effect of once: run
        again after a lost commit (:func:`~graph.lost_commits.retry_lost_commits`), and
        then ``repeated``."""
        done, repeated = await retry_lost_commits(
            operation, lambda: self.execute(operation, query, **params)
        )
        return replace(done, repeated=True) if repeated else done

    @abc.abstractmethod
    async def execute_all(
        self,
        operation: str,
        statements: Sequence[Statement],
        *,
        check: ExecutedCheck | None = None,
    ) -> list[Executed]:
        """Several statements in one write transaction, in order (all or nothing); ``check``
        sees what they returned before the commit, and what it raises rolls them back."""

    async def write_batches(
        self,
        operation: str,
        query: LiteralString,
        rows: Sequence[Any],
        *,
        batch_size: int,
        on_batch: BatchCallback | None = None,
        idempotent: bool = False,
        **params: Any,
    ) -> int:
        """``UNWIND $rows`` in batches, one transaction each; the sum of their ``written``.

        ``on_batch(done, total)`` is called (and awaited when it returns an awaitable) after
        each batch; ``idempotent`` batches are run with :meth:`execute_idempotent`.
        """
        written = 0
        run = self.execute_idempotent if idempotent else self.execute
        for start in range(0, len(rows), batch_size):
            batch = list(rows[start : start + batch_size])
            written += (await run(operation, query, rows=batch, **params)).count()
            if on_batch is not None:
                pending = on_batch(start + len(batch), len(rows))
                if pending is not None:
                    await pending
        return written


@dataclass(frozen=True)
class ConnectionTarget:
    uri: str
    user: str
    password: str
    database: str

    def __repr__(self) -> str:  # never print the password
        return f"ConnectionTarget(uri={self.uri!r}, user={self.user!r}, db={self.database!r})"


def resolve_target(settings: CrkgSettings) -> ConnectionTarget:
    """Where to connect: the configured URI, or the managed local server and its password."""
    if settings.neo4j_uri is not None:
        assert settings.neo4j_password is not None  # enforced by CrkgSettings
        return ConnectionTarget(
            uri=settings.neo4j_uri,
            user=settings.neo4j_user,
            password=settings.neo4j_password.get_secret_value(),
            database=settings.neo4j_database,
        )
    from graph.localserver.manager import LocalNeo4j

    credentials = LocalNeo4j(settings).credentials()
    if credentials is None:
        raise DatabaseUnavailableError(
            settings.local_uri, "the managed local server has never been started here"
        )
    # The managed server was set up with its generated credentials; CRKG_NEO4J_USER/PASSWORD
    # belong to an external server (CRKG_NEO4J_URI) and must not be tried against this one.
    return ConnectionTarget(
        uri=settings.local_uri,
        user=credentials.user,
        password=credentials.password,
        database=settings.neo4j_database,
    )


# Every driver open_driver made in this process, and the URI it talks to: a store replaced
# underneath them (a bulk import, a restore) must make them forget its bookmarks.
_OPEN_DRIVERS: weakref.WeakKeyDictionary[AsyncDriver, str] = weakref.WeakKeyDictionary()


def store_replaced(uri: str) -> int:
    """The database behind ``uri`` was recreated (``neo4j-admin database import`` or ``load``):
    forget what this process remembers of the old store; the number of drivers reset.

    A driver's ``execute_query`` chains every call after the last one's bookmark, and a
    bookmark names a transaction of one store: the recreated store starts its transaction
    ids again and may never reach the old one's, so the next ``execute_query`` on a driver
    that outlived the replacement waits for it until the server gives up
    (``Neo.TransientError.Transaction.BookmarkTimeout``). Each driver made by
    :func:`open_driver` for ``uri`` gets a fresh, empty bookmark manager; the GDS clients,
    which keep their own bookmarks and connections, are closed (made again on next use).
    Sessions of :class:`GraphStore` carry no bookmarks across sessions and need nothing.
    """
    from graph.gds import close_gds_clients

    reset = 0
    for driver, driver_uri in list(_OPEN_DRIVERS.items()):
        if driver_uri != uri:
            continue
        # the driver has no public way to clear its execute_query bookmarks: replace its
        # manager (the one attribute behind the public execute_query_bookmark_manager)
        if not hasattr(driver, "_query_bookmark_manager"):
            raise RuntimeError("the neo4j driver no longer keeps _query_bookmark_manager")
        driver._query_bookmark_manager = AsyncGraphDatabase.bookmark_manager()
        reset += 1
    close_gds_clients()
    return reset


async def open_driver(settings: CrkgSettings, *, verify: bool = True) -> AsyncDriver:
    """Create the process's driver and (by default) prove it can reach and log in to Neo4j."""
    target = resolve_target(settings)
    try:
        driver = AsyncGraphDatabase.driver(
            target.uri,
            auth=(target.user, target.password),
            max_transaction_retry_time=settings.neo4j_max_transaction_retry_seconds,
            connection_timeout=settings.neo4j_connection_timeout_seconds,
            user_agent="crkg",
            # server notices (unknown label in an empty database, …) are not errors
            notifications_min_severity="OFF",
        )
    except (ConfigurationError, ValueError) as error:
        raise CrkgError(
            f"cannot use CRKG_NEO4J_URI={target.uri!r}: {_first_line(error)}",
            hint="use neo4j://host:7687 (cluster routing) or bolt://host:7687",
        ) from error
    _OPEN_DRIVERS[driver] = target.uri
    if verify:
        try:
            await verify_connection(driver, target)
        except BaseException:
            await driver.close()
            raise
    return driver


async def verify_connection(driver: AsyncDriver, target: ConnectionTarget) -> None:
    """Translate the driver's connectivity failures into crkg errors that say what to do."""
    try:
        await driver.verify_connectivity()
    except AuthError as error:
        raise AuthenticationFailedError(target.uri, target.user) from error
    except (ServiceUnavailable, SessionExpired, OSError) as error:
        raise DatabaseUnavailableError(target.uri, _first_line(error)) from error
    except DriverError as error:
        raise DatabaseUnavailableError(target.uri, _first_line(error)) from error


async def _records(tx: AsyncManagedTransaction, query: LiteralString, params: Row) -> list[Row]:
    return [record.data() async for record in await tx.run(query, params)]


async def _first(tx: AsyncManagedTransaction, query: LiteralString, params: Row) -> Row | None:
    record = await (await tx.run(query, params)).fetch(1)
    return record[0].data() if record else None


async def _executed(
    tx: AsyncManagedTransaction,
    statements: Sequence[Statement],
    check: ExecutedCheck | None = None,
) -> list[Executed]:
    done = []
    for query, params in statements:
        result = await tx.run(query, dict(params))
        records = [record.data() async for record in result]
        summary = await result.consume()
        done.append(Executed(records, summary.counters))
    if check is not None:
        check(done)  # raising here rolls the transaction back (not a retryable error)
    return done


class GraphStore(QueryRunner):
    """Runs Cypher on one database, with retries and translated errors."""

    def __init__(
        self,
        driver: AsyncDriver,
        database: str,
        *,
        uri: str = "Neo4j",
        transaction_timeout: float | None = None,
        on_round_trip: Callable[[str], None] | None = None,
        deadline: float | None = None,
        deadline_seconds: float | None = None,
    ) -> None:
        self.driver = driver
        self.database = database
        self.uri = uri  # only for error messages
        # the server aborts a transaction that runs longer (the API bounds every request)
        self.transaction_timeout = transaction_timeout
        self.on_round_trip = on_round_trip  # told of every transaction (the API counts them)
        # a time.monotonic() time no transaction may run past (the API's request deadline,
        # ``deadline_seconds`` long): each gets at most what is left, none starts after it
        self.deadline = deadline
        self.deadline_seconds = deadline_seconds

    def scoped(
        self,
        *,
        transaction_timeout: float | None = None,
        on_round_trip: Callable[[str], None] | None = None,
        deadline: float | None = None,
        deadline_seconds: float | None = None,
    ) -> GraphStore:
        """The same driver and database with a timeout, a deadline and an observer of its
        own."""
        return GraphStore(
            self.driver,
            self.database,
            uri=self.uri,
            transaction_timeout=transaction_timeout,
            on_round_trip=on_round_trip,
            deadline=deadline,
            deadline_seconds=deadline_seconds,
        )

    @classmethod
    def from_settings(cls, driver: AsyncDriver, settings: CrkgSettings) -> GraphStore:
        return cls(driver, settings.neo4j_database, uri=settings.neo4j_uri or settings.local_uri)

    async def fetch(self, operation: str, query: LiteralString, /, **params: Any) -> list[Row]:
        return await self._run(operation, False, _records, query, params)

    async def fetch_one(self, operation: str, query: LiteralString, /, **params: Any) -> Row | None:
        return await self._run(operation, False, _first, query, params)

    async def execute(self, operation: str, query: LiteralString, /, **params: Any) -> Executed:
        (done,) = await self._run(operation, True, _executed, [(query, params)])
        return done

    async def execute_all(
        self,
        operation: str,
        statements: Sequence[Statement],
        *,
        check: ExecutedCheck | None = None,
    ) -> list[Executed]:
        return await self._run(operation, True, _executed, list(statements), check)

    async def _run(
        self,
        operation: str,
        writes: bool,
        work: TransactionWork[P, T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        attempts = 0

        async def attempt(tx: AsyncManagedTransaction) -> T:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                logger.warning(
                    "%s: retrying after a transient error (attempt %d)", operation, attempts
                )
            return await work(tx, *args, **kwargs)

        timeout, by_deadline, retry_for = self.transaction_timeout, False, None
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= _SHORTEST_TIMEOUT:  # the server reads a timeout under 1 ms as none
                raise QueryTimeoutError(f"the request (at {operation})", self.deadline_seconds)
            if timeout is None or left < timeout:
                timeout, by_deadline = left, True
            # the driver's retries (of an unreachable server, too) end before the deadline, so
            # the caller hears "unavailable" rather than the request's timeout: it retries
            # while less than retry_for has passed, each wait about double the last (1 s,
            # 2 s, 4 s …), so the last attempt may start up to ~2 × retry_for + 1 s in
            retry_for = max((left - 1.0) / 2.5, 0.0)
        if timeout is not None:
            attempt = unit_of_work(timeout=timeout)(attempt)
        if self.on_round_trip is not None:
            self.on_round_trip(operation)
        # one client span per transaction, named by the operation (never a parameter value);
        # a no-op unless the process configured an exporter (api/tracing.py)
        with _tracer.start_as_current_span(
            f"neo4j {operation}",
            kind=SpanKind.CLIENT,
            attributes={
                "db.system": "neo4j",
                "db.namespace": self.database,
                "db.operation.name": operation,
                "crkg.db.writes": writes,
            },
        ) as span:
            try:
                return await self._transact(writes, attempt, operation, by_deadline, retry_for)
            finally:
                span.set_attribute("crkg.db.attempts", attempts)

    async def _transact(
        self,
        writes: bool,
        attempt: Callable[[AsyncManagedTransaction], Awaitable[T]],
        operation: str,
        by_deadline: bool,
        retry_for: float | None = None,
    ) -> T:
        config: dict[str, Any] = {"database": self.database}
        if retry_for is not None:
            config["max_transaction_retry_time"] = retry_for
        try:
            async with self.driver.session(**config) as session:
                if writes:
                    return await session.execute_write(attempt)
                for _ in range(LOST_COMMIT_RETRIES):
                    try:
                        return await session.execute_read(attempt)
                    except IncompleteCommit:
                        # the driver never retries a lost commit (a write may have taken
                        # effect); a read changed nothing, so it simply runs again
                        logger.warning("%s: a read's commit answer was lost; again", operation)
                return await session.execute_read(attempt)
        except AuthError as error:
            raise AuthenticationFailedError(self.uri, "(the configured user)") from error
        except (ServiceUnavailable, SessionExpired) as error:
            raise unreachable_error(error, self.uri) from error
        except RuntimeError as error:
            if not closed_transport(error):
                raise
            # uvloop raises RuntimeError where asyncio raises OSError when the driver writes
            # to a socket the network reset (closing the pool's other connections after one
            # failed; neo4j-python-driver#1056), and the driver does not translate it. A
            # write's commit may have been under way: its outcome is unknown.
            if writes:
                raise WriteOutcomeUnknownError(self.uri, "the connection was reset") from error
            raise DatabaseUnavailableError(self.uri, "the connection was reset") from error
        except Neo4jError as error:
            if error.code == "Neo.DatabaseError.Transaction.TransactionCommitFailed":
                raise CommitFailedError(self.uri, _first_line(error)) from error
            if error.code and "TransactionTimedOut" in error.code:
                if by_deadline:
                    raise QueryTimeoutError(
                        f"the request (at {operation})", self.deadline_seconds
                    ) from error
                raise QueryTimeoutError(operation, self.transaction_timeout) from error
            raise QueryFailedError(operation, error.code, error.message or str(error)) from error


def to_native(value: Any) -> Any:
    """Neo4j temporal values as Python ones (others unchanged)."""
    convert = getattr(value, "to_native", None)
    return convert() if callable(convert) else value


def unreachable_error(error: ServiceUnavailable | SessionExpired, uri: str) -> DatabaseError:
    """The driver's "the server went away" as crkg's: a lost commit (``IncompleteCommit``, a
    kind of ``ServiceUnavailable``) may have taken effect, so it is not "unavailable"."""
    if isinstance(error, IncompleteCommit):
        return WriteOutcomeUnknownError(uri, _first_line(error))
    return DatabaseUnavailableError(uri, _first_line(error))


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


@asynccontextmanager
async def connected_store(settings: CrkgSettings) -> AsyncIterator[GraphStore]:
    """A store on a driver of its own, for one command (the API shares one per process)."""
    driver = await open_driver(settings)
    try:
        yield GraphStore.from_settings(driver, settings)
    finally:
        await driver.close()
