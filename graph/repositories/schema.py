"""Apply and inspect the crkg schema (constraints, indexes, version marker)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from graph.queries import schema as q
from graph.store import QueryRunner, to_native


@dataclass(frozen=True)
class SchemaInitResult:
    """What ``crkg init`` did: which constraints and indexes it created and which existed."""

    version: int
    applied_at: datetime | None
    created: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return bool(self.created)


@dataclass(frozen=True)
class SchemaState:
    version: int | None
    applied_at: datetime | None
    constraints: list[str]
    indexes: dict[str, str]  # name -> state (ONLINE, POPULATING, FAILED)


class SchemaRepository:
    def __init__(self, runner: QueryRunner) -> None:
        self.runner = runner

    async def apply(self, *, index_timeout_seconds: int = 300) -> SchemaInitResult:
        """Create every constraint and index that is missing (idempotent), then record the version.

        Schema commands cannot share a transaction with data writes, so each runs on its own.
        """
        created: list[str] = []
        present: list[str] = []
        for name, statement in (*q.CONSTRAINTS, *q.INDEXES):
            counters = (await self.runner.execute(f"create {name}", statement)).counters
            added = counters.constraints_added + counters.indexes_added
            (created if added else present).append(name)
        await self.runner.fetch(
            "await indexes", q.AWAIT_INDEXES, timeout_seconds=index_timeout_seconds
        )
        record = (
            await self.runner.execute(
                "record schema version", q.RECORD_SCHEMA_VERSION, version=q.SCHEMA_VERSION
            )
        ).single()
        return SchemaInitResult(
            int(record["version"]), to_native(record["applied_at"]), created, present
        )

    async def state(self) -> SchemaState:
        version = await self.runner.fetch_one("read schema version", q.READ_SCHEMA_VERSION)
        constraints = [
            r["name"] for r in await self.runner.fetch("list constraints", q.LIST_CONSTRAINTS)
        ]
        indexes = {
            r["name"]: r["state"] for r in await self.runner.fetch("list indexes", q.LIST_INDEXES)
        }
        if version is None:
            return SchemaState(None, None, constraints, indexes)
        return SchemaState(
            int(version["version"]), to_native(version["applied_at"]), constraints, indexes
        )
