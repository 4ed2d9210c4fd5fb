"""crkg's errors: one base class, subclasses that carry what went wrong and where.

They are raised inside ``graph/`` (and the packages that build on it) and translated only at
the edges: the CLI prints ``str(error)`` and exits non-zero, the API maps them to GraphQL
error types and HTTP status codes.
"""

from __future__ import annotations


class CrkgError(Exception):
    """Base of every error crkg raises on purpose; its message is meant for a person."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}\n  hint: {self.hint}"


# --- the database ---------------------------------------------------------------------
class DatabaseError(CrkgError):
    """Talking to Neo4j failed."""

    exit_code = 3


class DatabaseUnavailableError(DatabaseError):
    """Nothing answers at the URI, or the server went away."""

    def __init__(self, uri: str, detail: str) -> None:
        super().__init__(
            f"Neo4j is not reachable at {uri}: {detail}",
            hint="start the managed server with `crkg neo4j start`, or check CRKG_NEO4J_URI",
        )
        self.uri = uri


class WriteOutcomeUnknownError(DatabaseError):
    """The connection was lost while a write committed (the driver's ``IncompleteCommit``):
    it may or may not have taken effect."""

    def __init__(self, uri: str, detail: str) -> None:
        super().__init__(
            f"the connection to Neo4j at {uri} was lost while a write committed, so whether "
            f"it took effect is unknown: {detail}",
            hint="check whether it took effect, or retry it if it is idempotent (upserts are)",
        )
        self.uri = uri


class CommitFailedError(WriteOutcomeUnknownError):
    """Neo4j failed while committing a write (``TransactionCommitFailed``: a full disk, a
    failing store): a commit it had logged is applied when the database recovers, so whether
    it took effect is unknown."""

    def __init__(self, uri: str, detail: str) -> None:
        DatabaseError.__init__(
            self,
            f"Neo4j at {uri} failed while committing a write, so whether it took effect is "
            f"unknown (a commit it logged is applied when the database restarts): {detail}",
            hint="see the server's debug.log (is its disk full?); once it is fixed and the "
            "server restarted, run the write again if it is idempotent (loads and upserts are)",
        )
        self.uri = uri


class AuthenticationFailedError(DatabaseError):
    """The server is up but refuses the credentials."""

    def __init__(self, uri: str, user: str) -> None:
        super().__init__(
            f"Neo4j at {uri} rejected the credentials of user {user!r}",
            hint="check CRKG_NEO4J_USER / CRKG_NEO4J_PASSWORD (the managed server keeps its "
            "generated password in <data_dir>/<instance>/credentials.json)",
        )
        self.uri = uri
        self.user = user


class QueryFailedError(DatabaseError):
    """A query was rejected by the server for a reason that retrying will not fix."""

    def __init__(self, operation: str, code: str | None, detail: str) -> None:
        super().__init__(f"{operation} failed ({code or 'unknown code'}): {detail}")
        self.operation = operation
        self.code = code


class QueryTimeoutError(CrkgError):
    """The server stopped a transaction that ran past its timeout (its message is safe to show:
    it names the operation, not the query)."""

    exit_code = 3

    def __init__(self, operation: str, seconds: float | None) -> None:
        limit = f" of {seconds:g} s" if seconds is not None else ""
        super().__init__(
            f"{operation} took longer than its timeout{limit} and was stopped",
            hint="narrow the request (smaller pages, fewer hops) or ask an admin",
        )
        self.operation = operation


class SchemaNotInitialisedError(DatabaseError):
    """The database has no crkg schema yet."""

    def __init__(self, database: str) -> None:
        super().__init__(f"database {database!r} has no crkg schema", hint="run `crkg init` first")


class ServiceBusyError(CrkgError):
    """Too many expensive requests of one kind are running; try again in a moment."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(
            f"{limit} {what} already running in this process, the most it runs at once",
            hint="try again in a moment",
        )
        self.limit = limit


class NotFoundError(CrkgError):
    """A node that was asked for by key does not exist."""

    exit_code = 4

    def __init__(self, label: str, key: str) -> None:
        super().__init__(f"no {label} with key {key!r}")
        self.label = label
        self.key = key


class NotComputedError(CrkgError):
    """A stored result was asked for that no run has computed (or not for these inputs)."""

    def __init__(self, what: str, *, hint: str) -> None:
        super().__init__(what, hint=hint)


# --- the managed local server ----------------------------------------------------------
class LocalServerError(CrkgError):
    """Provisioning, starting or stopping the managed local Neo4j failed."""

    exit_code = 5


class PrerequisiteMissingError(LocalServerError):
    """A tool the managed server needs (Java 17/21, Maven) is not installed."""


class PortInUseError(LocalServerError):
    """Another process holds the Bolt port."""

    def __init__(self, port: int) -> None:
        super().__init__(
            f"port 127.0.0.1:{port} is already in use by a process that is not this crkg "
            "instance's Neo4j",
            hint="stop that process, or choose another port with CRKG_LOCAL_BOLT_PORT",
        )
        self.port = port


class ServerCrashedError(LocalServerError):
    """The server process exited, or never answered."""


class CorruptCacheError(LocalServerError):
    """The cached server jars are incomplete or damaged."""


def closed_transport(error: RuntimeError) -> bool:
    """uvloop's "unable to perform operation on <TCPTransport closed=True …>; the handler is
    closed", which the driver lets through on a reset connection.

    >>> closed_transport(RuntimeError("unable to perform operation on <TCPTransport "
    ...                               "closed=True reading=False 0x1>; the handler is closed"))
    True
    >>> closed_transport(RuntimeError("Event loop is closed"))
    False
    """
    return "the handler is closed" in str(error)
