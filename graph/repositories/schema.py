"""Apply and inspect the crkg schema (constraints, indexes, version marker)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.queries import schema as q
from graph.store import GraphStore


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


async def _create(tx: AsyncManagedTransaction, statement: Any) -> int:
    summary = await (await tx.run(statement)).consume()
    counters = summary.counters
    return counters.constraints_added + counters.indexes_added


async def _await_indexes(tx: AsyncManagedTransaction, timeout_seconds: int) -> None:
    await (await tx.run(q.AWAIT_INDEXES, timeout_seconds=timeout_seconds)).consume()


async def _record_version(tx: AsyncManagedTransaction, version: int) -> tuple[int, datetime]:
    record = await (await tx.run(q.RECORD_SCHEMA_VERSION, version=version)).single(strict=True)
    return int(record["version"]), record["applied_at"].to_native()


async def _read_state(tx: AsyncManagedTransaction) -> SchemaState:
    version_record = await (await tx.run(q.READ_SCHEMA_VERSION)).single()
    constraints = [r["name"] async for r in await tx.run(q.LIST_CONSTRAINTS)]
    indexes = {r["name"]: r["state"] async for r in await tx.run(q.LIST_INDEXES)}
    if version_record is None:
        return SchemaState(None, None, constraints, indexes)
    return SchemaState(
        int(version_record["version"]),
        version_record["applied_at"].to_native(),
        constraints,
        indexes,
    )


class SchemaRepository:
    def __init__(self, store: GraphStore) -> None:
        self.store = store

    async def apply(self, *, index_timeout_seconds: int = 300) -> SchemaInitResult:
        """Create every constraint and index that is missing (idempotent), then record the version.

        Schema commands cannot share a transaction with data writes, so each runs on its own.
        """
        created: list[str] = []
        present: list[str] = []
        for name, statement in (*q.CONSTRAINTS, *q.INDEXES):
            added = await self.store.write(f"create {name}", _create, statement)
            (created if added else present).append(name)
        await self.store.read("await indexes", _await_indexes, index_timeout_seconds)
        version, applied_at = await self.store.write(
            "record schema version", _record_version, q.SCHEMA_VERSION
        )
        return SchemaInitResult(version, applied_at, created, present)

    async def state(self) -> SchemaState:
        return await self.store.read("read schema state", _read_state)
