"""Types of administration: the caller, algorithm runs and the jobs that start them, and the
results of upserts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from algorithms.registry import REGISTRY, Engine
from api.graphql.common.enums import TieType
from api.graphql.context import context_value
from api.graphql.jobs import AlgorithmJob
from graph.read_models import AlgorithmRunRecord

strawberry.enum(Engine, name="Engine")

# every registered algorithm, by name (runAlgorithm takes nothing else)
_ALGORITHM_NAMES: Any = Enum(  # type: ignore[misc]  # members come from the registry
    "AlgorithmName", {name.upper(): name for name in REGISTRY}
)
AlgorithmName: Any = strawberry.enum(_ALGORITHM_NAMES, name="AlgorithmName")


@strawberry.type
class Principal:
    subject: str
    role: str
    rm_id: strawberry.ID | None
    permissions: list[str]


@strawberry.type
class AlgorithmRun:
    run_id: strawberry.ID
    name: str
    engine: str | None
    status: str | None
    progress: float | None
    parameters: JSON | None
    scope: JSON | None
    summary: JSON | None
    node_count: int | None
    relationship_count: int | None
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_record(cls, record: AlgorithmRunRecord) -> AlgorithmRun:
        return cls(
            run_id=strawberry.ID(record.run_id),
            name=record.name,
            engine=record.engine,
            status=record.status,
            progress=record.progress,
            parameters=cast(JSON, record.parameters),
            scope=cast(JSON, record.scope),
            summary=cast(JSON, record.summary),
            node_count=record.node_count,
            relationship_count=record.relationship_count,
            started_at=record.started_at,
            finished_at=record.finished_at,
        )


@strawberry.type
class Job:
    id: strawberry.ID
    algorithm: str
    status: str
    engine: str
    parameters: JSON
    requested_by: str
    created_at: datetime
    finished_at: datetime | None
    error: str | None
    run_id: strawberry.ID | None

    @classmethod
    def from_job(cls, job: AlgorithmJob) -> Job:
        return cls(
            id=strawberry.ID(job.job_id),
            algorithm=job.algorithm,
            status=job.status.value,
            engine=job.engine.value,
            parameters=cast(JSON, job.parameters),
            requested_by=job.requested_by,
            created_at=job.created_at,
            finished_at=job.finished_at,
            error=job.error,
            run_id=None if job.run_id is None else strawberry.ID(job.run_id),
        )

    @strawberry.field
    async def run(self, info: strawberry.Info) -> AlgorithmRun | None:
        if self.run_id is None:
            return None
        record = await context_value(info).repositories.runs.get(str(self.run_id))
        return None if record is None else AlgorithmRun.from_record(record)


@strawberry.input(description="A customer row; the same columns and rules as customers.csv")
class CustomerInput:
    customer_id: strawberry.ID
    kind: str
    name: str
    city: str | None = None
    branch_id: str | None = None
    rm_id: str | None = None
    aum: Decimal | None = None
    risk_rating: int | None = None
    consent_marketing: bool | None = None
    onboarded_at: date | None = None
    last_active_at: date | None = None
    phone: str | None = None
    id_number: str | None = None
    email: str | None = None


@strawberry.input(description="A social tie; the same columns and rules as social.csv")
class TieInput:
    src_id: strawberry.ID
    dst_id: strawberry.ID
    kind: TieType
    strength: float | None = None
    since: date | None = None


@strawberry.type
class RejectedRow:
    index: int = strawberry.field(description="position in the input list (0-based)")
    field: str | None
    reason: str
    message: str


@strawberry.type
class UpsertResult:
    load_run_id: str
    received: int
    loaded: int
    changed: int
    rejected: list[RejectedRow]
