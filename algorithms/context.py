"""What an engine works with (:class:`RunContext`) and what it hands back (:class:`Computed`).

A run's context carries its identity and ``AlgorithmRun`` record, its scope, the repositories
it reads and writes through, and its progress reports; an engine reads what it needs, computes
(CPU-bound work in a worker thread) and returns :class:`Computed`, which the runner writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from algorithms.params import AlgorithmParams
from algorithms.scope import Scope
from graph.queries.screens import RiskFlagRule
from graph.read_models import TieColumns
from graph.repositories.algorithm_runs import AlgorithmRunRepository
from graph.repositories.communities import CommunityRepository
from graph.repositories.customers import CustomerRepository
from graph.repositories.projections import CustomerScope, ProjectionRepository
from graph.repositories.referral_targets import ReferralTargetRepository
from graph.repositories.risk_linkages import RiskLinkageRepository
from graph.settings import CrkgSettings
from graph.store import ConnectionTarget, GraphStore, resolve_target

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from algorithms.registry import Algorithm, Engine

ProgressCallback = Callable[[float, str], None]
"""``on_progress(fraction, stage)``: fraction in [0, 1]; stage e.g. "read", "compute", "write"."""


@dataclass
class Computed:
    """What an engine found, for the runner to write and return.

    ``values`` are the run's result (one per customer, linkage, product or path); the runner
    writes them to the algorithm's result property unless ``properties`` names what to write
    per property (segmentation writes two) or ``linkages`` holds RiskLinkage rows. An engine
    that wrote its results itself (referral targets, per product) says how many in
    ``written``. ``ties`` is the tie graph it read, for community profiles to reuse.
    """

    values: dict[str, Any]
    summary: dict[str, Any] = field(default_factory=dict)
    node_count: int | None = None
    relationship_count: int | None = None
    properties: dict[str, dict[str, Any]] | None = None
    linkages: list[dict[str, Any]] | None = None
    written: int | None = None
    ties: tuple[list[str], TieColumns] | None = None
    write_from: float | None = 0.6  # where the write stage starts (None: no write stage)


R = TypeVar("R")


class _Repository(Generic[R]):
    """A repository on the run's store (with its risk rule where it takes one), made on first
    use and then kept on the context, as ``cached_property`` does."""

    def __init__(self, make: Callable[..., R], *, risk_rule: bool = False) -> None:
        self.make, self.risk_rule = make, risk_rule

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, context: RunContext, owner: type | None = None) -> R:
        made: R | None = context.__dict__.get(self.name)
        if made is None:
            extra = {"risk_rule": context.risk_rule} if self.risk_rule else {}
            made = context.__dict__[self.name] = self.make(context.store, **extra)
        return made


@dataclass
class RunContext:
    """One run's identity, its AlgorithmRun record, its scope and its repositories."""

    store: GraphStore
    settings: CrkgSettings
    spec: Algorithm
    engine: Engine
    parameters: dict[str, Any]
    scope: Scope = field(default_factory=Scope)
    on_progress: ProgressCallback | None = None
    run_id: str = ""
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    clock: float = field(default_factory=time.perf_counter)
    _recorded: tuple[float, str] = (0.0, "")
    _recorded_at: float = 0.0
    _heartbeat: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.run_id = f"algo-{self.spec.name}-{self.started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"

    # --- what engines read and write through -------------------------------------------------
    @cached_property
    def risk_rule(self) -> RiskFlagRule:
        return RiskFlagRule.from_settings(self.settings)

    @cached_property
    def customers(self) -> CustomerRepository:
        return CustomerRepository(
            self.store,
            risk_rule=self.risk_rule,
            batch_size=self.settings.algorithm_write_batch_size,
        )

    projections = _Repository(ProjectionRepository)
    communities = _Repository(CommunityRepository)
    linkages = _Repository(RiskLinkageRepository)
    referral_targets = _Repository(ReferralTargetRepository, risk_rule=True)
    runs = _Repository(AlgorithmRunRepository)

    @property
    def customer_scope(self) -> CustomerScope:
        return self.scope.to_customer_scope()

    @property
    def gds_target(self) -> ConnectionTarget:
        return resolve_target(self.settings)

    # --- the AlgorithmRun record -------------------------------------------------------------
    async def begin(self) -> None:
        """Fail the runs whose process died, record this one, and stamp it while it lives."""
        heartbeat = timedelta(seconds=self.settings.algorithm_heartbeat_seconds)
        now = datetime.now(UTC)
        await self.runs.fail_abandoned(now - 3 * heartbeat, now)
        await self.runs.record(
            self.run_id,
            {
                "name": self.spec.name,
                "engine": self.engine.value,
                "parameters_json": json.dumps(self.parameters),
                "scope_json": self.scope.model_dump_json(exclude_none=True),
                "started_at": self.started,
                "status": "RUNNING",
                "progress": 0.0,
                "stage": "start",
                "heartbeat_at": self.started,
            },
        )
        self._heartbeat = asyncio.create_task(self._stamp_forever(), name=f"{self.run_id}-beat")
        self._report(0.0, "start")

    async def _stamp_forever(self) -> None:
        """``heartbeat_at`` every ``algorithm_heartbeat_seconds``: the run's process lives."""
        while True:
            await asyncio.sleep(self.settings.algorithm_heartbeat_seconds)
            try:
                await self.runs.record(self.run_id, {"heartbeat_at": datetime.now(UTC)})
            except Exception as error:  # a missed stamp is not the run's failure
                logger.warning("%s: heartbeat not written: %s", self.run_id, error)

    async def _stop_heartbeat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None

    async def record(self, properties: dict[str, Any]) -> None:
        """Add to the run's record (the seeds a run used, …)."""
        await self.runs.record(self.run_id, properties)

    def _report(self, fraction: float, stage: str) -> None:
        if self.on_progress is not None:
            self.on_progress(fraction, stage)

    async def progress(self, fraction: float, stage: str) -> None:
        """Tell the caller at once; update the run record on a new stage or every 2 s."""
        fraction = min(max(fraction, 0.0), 1.0)
        self._report(fraction, stage)
        now = time.perf_counter()
        if stage != self._recorded[1] or now - self._recorded_at >= 2.0:
            self._recorded, self._recorded_at = (fraction, stage), now
            await self.runs.record(self.run_id, {"progress": round(fraction, 4), "stage": stage})

    def batches(
        self, low: float, high: float, stage: str = "write"
    ) -> Callable[[int, int], Awaitable[None]]:
        """An ``on_batch(done, total)`` mapping write batches onto [low, high]."""

        pause = self.settings.algorithm_write_pause_seconds  # the crash tests' hook; 0: off

        async def on_batch(done: int, total: int) -> None:
            await self.progress(low + (high - low) * done / max(total, 1), stage)
            if pause and done < total:
                await asyncio.sleep(pause)

        return on_batch

    async def fail(self, error: BaseException) -> None:
        await self._stop_heartbeat()
        await self.runs.record(
            self.run_id,
            {
                "status": "FAILED",
                "finished_at": datetime.now(UTC),
                "summary_json": json.dumps({"error": str(error)[:500]}),
            },
        )

    async def succeed(
        self,
        summary: dict[str, Any],
        *,
        node_count: int | None,
        relationship_count: int | None,
    ) -> datetime:
        await self._stop_heartbeat()
        finished = datetime.now(UTC)
        await self.runs.record(
            self.run_id,
            {
                "status": "SUCCEEDED",
                "finished_at": finished,
                "progress": 1.0,
                "stage": "done",
                "node_count": node_count,
                "relationship_count": relationship_count,
                "summary_json": json.dumps(summary, default=str, ensure_ascii=False),
            },
        )
        self._report(1.0, "done")
        return finished

    @property
    def seconds(self) -> float:
        return round(time.perf_counter() - self.clock, 3)

    # --- reads several engines share ---------------------------------------------------------
    async def read_tie_graph(
        self, params: AlgorithmParams, scope: CustomerScope | None = None
    ) -> tuple[list[str], TieColumns]:
        """The scoped customers and the ties among them (the run's scope by default)."""
        chosen = self.customer_scope if scope is None else scope
        await self.progress(0.02, "read")
        customers = await self.projections.customer_ids(chosen)
        await self.progress(0.05, "read")
        ties = await self.projections.tie_columns(
            params.tie_kinds, min_strength=params.min_strength, scope=chosen, customers=customers
        )
        return customers, ties
