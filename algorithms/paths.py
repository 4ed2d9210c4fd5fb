"""Bounded, on-request path queries: the warmest paths between customers, read around both ends.

The API calls :func:`warmest_paths_between` per request: it reads only the neighbourhoods of
the two ends (meet in the middle: ``max_hops // 2`` ties out of the sources and the rest out
of the target) through Cypher, then runs the path search in a worker thread.

A search is CPU work that an ``asyncio`` timeout cannot interrupt, so it carries its own
deadline, checked inside the search loop: when the caller's timeout fires, the thread stops
too instead of keeping a core busy. And a process runs at most a few searches at once
(:class:`SearchSlots`): one more is refused at once with :class:`~graph.errors.
ServiceBusyError` rather than queued behind them past its own timeout. A search keeps its
slot until its thread has really ended. The slots are shared fairly: one owner (the API
passes the caller's subject) holds at most ``per_owner`` of them (one, by default), so a
single user looping hub-to-hub searches — or one request of aliased searches — cannot keep
every other user's searches ``BUSY``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import TypeVar

from algorithms.graphdata import GraphData, InvalidGraphError, UnknownNodeError
from algorithms.inproc.paths import SearchDeadlineExceeded, WarmPath, warmest_paths
from graph.errors import CrkgError, ServiceBusyError
from graph.model import TieKind
from graph.read_models import TieColumns
from graph.repositories.customers import CustomerRepository
from graph.repositories.projections import ProjectionRepository
from graph.store import QueryRunner

__all__ = [
    "OwnerBusyError",
    "SearchDeadlineExceeded",
    "SearchSlot",
    "SearchSlots",
    "WarmPath",
    "search_slots",
    "warmest_paths_between",
]

T = TypeVar("T")


class SearchSlot:
    """One taken place among a :class:`SearchSlots`' places; released once."""

    def __init__(self, release: Callable[[], None]) -> None:
        self._release = release
        self._lock = threading.Lock()
        self._released = False

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._release()

    def run_in_thread(self, function: Callable[[], T]) -> concurrent.futures.Future[T]:
        """Run ``function`` in a thread of its own, which releases this slot when it ends.

        The future is running on return, so cancelling it (as ``asyncio`` does to whatever
        it awaits on a timeout) leaves the thread, and its slot, to finish.
        """
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        future.set_running_or_notify_cancel()

        def work() -> None:
            try:
                future.set_result(function())
            except BaseException as error:  # handed to the waiting caller
                future.set_exception(error)
            finally:
                self.release()

        threading.Thread(target=work, name="crkg-path-search", daemon=True).start()
        return future


class OwnerBusyError(ServiceBusyError):
    """The owner (a user) already runs as many searches as one owner may."""

    def __init__(self, per_owner: int) -> None:
        CrkgError.__init__(
            self,
            f"you already have {per_owner} warm-path search{'es' if per_owner > 1 else ''} "
            "running, the most one user runs at once",
            hint="wait for it to answer (a request with several paths or referralPaths "
            "fields runs them one at a time: send them one per request)",
        )
        self.limit = per_owner


class SearchSlots:
    """At most ``limit`` warm-path searches of this process at once, and at most
    ``per_owner`` of them for any one owner.

    Examples
    --------
    >>> slots = SearchSlots(2, per_owner=1)
    >>> first = slots.take("alice")
    >>> slots.take("alice")
    Traceback (most recent call last):
    ...
    algorithms.paths.OwnerBusyError: you already have 1 warm-path search running, ...
    >>> second = slots.take("bob")
    >>> slots.take("carol")
    Traceback (most recent call last):
    ...
    graph.errors.ServiceBusyError: 2 warm-path searches already running in this process, ...
    >>> first.release(); slots.take("carol").release()
    """

    def __init__(self, limit: int, *, per_owner: int = 1) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        if per_owner < 1:
            raise ValueError(f"per_owner must be at least 1, got {per_owner}")
        self.limit = limit
        self.per_owner = per_owner
        self._lock = threading.Lock()
        self._taken = 0
        self._by_owner: dict[str, int] = {}

    def take(self, owner: str | None = None) -> SearchSlot:
        """A slot, or :class:`OwnerBusyError` when ``owner`` holds its share, or
        :class:`~graph.errors.ServiceBusyError` when all are taken. ``None``: no owner
        (only the process-wide limit applies)."""
        with self._lock:
            if owner is not None and self._by_owner.get(owner, 0) >= self.per_owner:
                raise OwnerBusyError(self.per_owner)
            if self._taken >= self.limit:
                raise ServiceBusyError("warm-path searches", self.limit)
            self._taken += 1
            if owner is not None:
                self._by_owner[owner] = self._by_owner.get(owner, 0) + 1
        return SearchSlot(functools.partial(self._release, owner))

    async def take_waiting(self, owner: str | None, wait: float) -> SearchSlot:
        """:meth:`take`, waiting up to ``wait`` seconds for a process slot to free (polled
        every 20 ms, never blocking the event loop): a moment's queue at a busy desk, not a
        refusal. An owner over their share is refused at once (their own searches run).

        >>> slots = SearchSlots(1)
        >>> held = slots.take("alice")
        >>> asyncio.run(slots.take_waiting("bob", 0.05))
        Traceback (most recent call last):
        ...
        graph.errors.ServiceBusyError: 1 warm-path searches already running in this process, ...
        >>> held.release(); asyncio.run(slots.take_waiting("bob", 0.05)).release()
        """
        until = time.monotonic() + wait
        while True:
            try:
                return self.take(owner)
            except OwnerBusyError:
                raise
            except ServiceBusyError:
                if time.monotonic() >= until:
                    raise
            await asyncio.sleep(0.02)

    def _release(self, owner: str | None) -> None:
        with self._lock:
            self._taken -= 1
            if owner is not None:
                left = self._by_owner[owner] - 1
                if left:
                    self._by_owner[owner] = left
                else:
                    del self._by_owner[owner]


@functools.cache
def search_slots(limit: int, per_owner: int = 1) -> SearchSlots:
    """The process's slots for searches (one set per limit, shared by every request)."""
    return SearchSlots(limit, per_owner=per_owner)


def _check_deadline(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise SearchDeadlineExceeded("the warm-path search ran past its deadline")


_VIRTUAL_SOURCE = "\x00sources"  # no customer id starts with NUL


async def _ball(
    repository: ProjectionRepository,
    start: Sequence[str],
    radius: int,
    kinds: Sequence[TieKind],
    min_strength: float,
) -> TieColumns:
    """Ties at every node within ``radius - 1`` hops of ``start``: all ties up to ``radius``."""
    src: list[str] = []
    dst: list[str] = []
    weight: list[float] = []
    seen = set(start)
    frontier = list(dict.fromkeys(start))
    for _ in range(radius):
        if not frontier:
            break
        found = await repository.ties_around(frontier, kinds, min_strength=min_strength)
        src.extend(found.src)
        dst.extend(found.dst)
        weight.extend(found.weight)
        frontier = [node for node in dict.fromkeys(found.dst) if node not in seen]
        seen.update(frontier)
    return TieColumns(src, dst, weight)


def _search(
    sources: Sequence[str],
    target: str,
    ties: TieColumns,
    k: int,
    max_hops: int,
    deadline: float | None = None,
    avoid: Collection[str] = (),
) -> list[WarmPath]:
    # Directed edges both ways, plus a free edge from one virtual source to every source, so
    # one search covers all sources; the virtual node is stripped from the paths found. No
    # edge enters a source: a path through a second source is better started from it. No
    # edge touches a node of ``avoid`` (but the target).
    starts = set(sources)
    barred = set(avoid) - {target}
    both = [
        (u, v, w)
        for s, d, w in zip(ties.src, ties.dst, ties.weight, strict=True)
        if s != d and s not in barred and d not in barred
        for u, v in ((s, d), (d, s))
        if v not in starts
    ]
    sources = [s for s in sources if s not in barred]
    edges = [(u, v) for u, v, _ in both] + [(_VIRTUAL_SOURCE, s) for s in sources]
    weight = [w for *_, w in both] + [1.0] * len(sources)
    _check_deadline(deadline)
    graph = GraphData.from_edges(
        edges, nodes=[_VIRTUAL_SOURCE, target], directed=True, weight=weight
    )
    found = warmest_paths(
        graph, _VIRTUAL_SOURCE, target, k=k, max_hops=max_hops + 1, deadline=deadline
    )
    return [WarmPath(nodes=p.nodes[1:], strength=p.strength, cost=p.cost) for p in found]


async def warmest_paths_between(
    store: QueryRunner,
    sources: Sequence[str],
    target: str,
    *,
    k: int = 3,
    max_hops: int = 4,
    tie_kinds: Sequence[TieKind] = tuple(TieKind),
    min_strength: float = 0.0,
    deadline: float | None = None,
    slots: SearchSlots | None = None,
    owner: str | None = None,
    screen: Callable[[list[str]], Awaitable[set[str]]] | None = None,
    slot_wait: float = 0.0,
) -> list[WarmPath]:
    """The ``k`` warmest paths of ties from any of ``sources`` to ``target``.

    A path's strength is the product of its tie strengths (cost ``-log`` strength, as in
    :func:`~algorithms.inproc.referral.warmest_paths`); at most ``max_hops`` ties; a source
    appears only as the first node (a path through another source is that source's path).
    Reads at most ``max_hops`` hops of the graph in total, ``max_hops // 2`` around the
    sources and the rest around the target.

    Parameters
    ----------
    store : GraphStore
    sources : sequence of customer ids
        Where paths may start (e.g. an RM's book); ``target`` itself is ignored among them.
    target : str
        The customer to reach.
    k : int
        Paths wanted (fewer when fewer exist).
    max_hops : int
        Longest path, in ties (1-6).
    tie_kinds : sequence of TieKind
        Which ties count.
    min_strength : float
        Ignore weaker ties.
    deadline : float, optional
        A :func:`time.monotonic` time after which the search stops (in its thread, too).
    slots : SearchSlots, optional
        Where to take a place for the search (held from the first read until the search's
        thread has ended); ``None`` runs it without a bound.
    owner : str, optional
        Whose search it is (the API passes the caller's subject): an owner holds at most
        ``slots.per_owner`` places at once.
    screen : async callable, optional
        Given the customers read around both ends, those no path may start from or go
        through (the API passes "may not be contacted" for marketing roles); the target
        is never screened out.

    Returns
    -------
    list of WarmPath
        Strongest first; ``nodes`` from a source to ``target``.

    Raises
    ------
    UnknownNodeError
        ``target`` or every source is not a customer.
    SearchDeadlineExceeded
        The deadline passed (a :class:`TimeoutError`).
    ServiceBusyError
        Every slot is taken by other searches, or (:class:`OwnerBusyError`) ``owner``
        already holds its share.

    Examples
    --------
    In an API resolver (``store`` is the request's :class:`~graph.store.GraphStore`)::

        paths = await warmest_paths_between(store, book, "C000042", k=3, max_hops=4)
        [(p.nodes, round(p.strength, 3)) for p in paths]
    """
    if not 1 <= max_hops <= 6:
        raise InvalidGraphError(f"max_hops must be within 1..6, got {max_hops}")
    if k < 1:
        raise InvalidGraphError(f"k must be at least 1, got {k}")
    if slots is not None and deadline is not None:  # a slot is waited for within the deadline
        slot_wait = max(0.0, min(slot_wait, deadline - time.monotonic()))
    slot = await slots.take_waiting(owner, slot_wait) if slots is not None else None
    handed_over = False
    try:
        repository = ProjectionRepository(store)
        starts = [s for s in dict.fromkeys(sources) if s != target]
        missing = await CustomerRepository(store).missing_customers([target])
        if missing:
            raise UnknownNodeError(target)
        if not starts:
            return []
        near_sources = max_hops // 2
        near_target = max_hops - near_sources
        around_sources = await _ball(repository, starts, near_sources, tie_kinds, min_strength)
        around_target = await _ball(repository, [target], near_target, tie_kinds, min_strength)
        ties = TieColumns(
            around_sources.src + around_target.src,
            around_sources.dst + around_target.dst,
            around_sources.weight + around_target.weight,
        )
        avoid: set[str] = set()
        if screen is not None:
            avoid = await screen(sorted({*ties.src, *ties.dst, *starts} - {target}))
        _check_deadline(deadline)

        def search() -> list[WarmPath]:
            return _search(starts, target, ties, k, max_hops, deadline, avoid)

        if slot is None:
            return await asyncio.to_thread(search)
        future = slot.run_in_thread(search)
        handed_over = True  # the thread releases the slot when it ends
        return await asyncio.wrap_future(future)
    finally:
        if slot is not None and not handed_over:
            slot.release()
