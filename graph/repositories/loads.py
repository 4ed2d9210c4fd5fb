"""Writes of the loader: batches of validated rows, key look-ups, the LoadRun record."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, LiteralString

from neo4j import AsyncManagedTransaction

from graph.errors import QueryFailedError
from graph.queries import loads as q
from graph.store import GraphStore


@dataclass(frozen=True)
class BatchResult:
    written: int  # rows that reached their node or relationship
    changed: int  # rows that created, updated or deleted something


async def _write_batch(
    tx: AsyncManagedTransaction,
    statement: LiteralString,
    rows: list[dict[str, Any]],
    load_id: str,
    loaded_at: datetime,
) -> BatchResult:
    result = await tx.run(statement, rows=rows, load_id=load_id, loaded_at=loaded_at)
    record = await result.single(strict=True)
    return BatchResult(int(record["written"]), int(record["changed"] or 0))


async def _existing(
    tx: AsyncManagedTransaction, statement: LiteralString, keys: list[str]
) -> list[str]:
    return [str(r["key"]) async for r in await tx.run(statement, keys=keys)]


async def _record_run(tx: AsyncManagedTransaction, run_id: str, properties: dict[str, Any]) -> None:
    await (await tx.run(q.RECORD_LOAD_RUN, run_id=run_id, properties=properties)).consume()


async def _counts(tx: AsyncManagedTransaction) -> tuple[dict[str, int], dict[str, int]]:
    labels = {r["label"]: int(r["count"]) async for r in await tx.run(q.COUNT_BY_LABEL)}
    types = {r["type"]: int(r["count"]) async for r in await tx.run(q.COUNT_BY_TYPE)}
    return labels, types


async def _mark_stale(tx: AsyncManagedTransaction, reason: str, at: Any) -> int:
    record = await (await tx.run(q.MARK_COMMUNITIES_STALE, reason=reason, at=at)).single(
        strict=True
    )
    return int(record["marked"])


async def _count_domain_nodes(tx: AsyncManagedTransaction) -> int:
    record = await (await tx.run(q.COUNT_DOMAIN_NODES)).single(strict=True)
    return int(record["count"])


class LoadRepository:
    def __init__(self, store: GraphStore) -> None:
        self.store = store

    async def write_batch(
        self,
        operation: str,
        statement: LiteralString,
        rows: list[dict[str, Any]],
        *,
        load_id: str,
        loaded_at: datetime,
    ) -> BatchResult:
        """Write one batch in one transaction; every row must reach its target."""
        result = await self.store.write(
            operation, _write_batch, statement, rows, load_id, loaded_at
        )
        if result.written != len(rows):
            raise QueryFailedError(
                operation,
                None,
                f"{len(rows) - result.written} of {len(rows)} rows found no endpoint; they were "
                "checked before writing, so something deleted nodes during the load",
            )
        return result

    async def existing_keys(
        self, target: q.NodeTarget, keys: Iterable[str], *, batch_size: int = 10_000
    ) -> set[str]:
        """The subset of ``keys`` that exist in the database as ``target`` nodes."""
        pending = list(dict.fromkeys(keys))
        found: set[str] = set()
        statement = q.existing_keys(target)
        for start in range(0, len(pending), batch_size):
            chunk = pending[start : start + batch_size]
            found.update(
                await self.store.read(
                    f"look up {target.label.value} keys", _existing, statement, chunk
                )
            )
        return found

    async def record_run(self, run_id: str, properties: dict[str, Any]) -> None:
        await self.store.write("record load run", _record_run, run_id, properties)

    async def mark_communities_stale(self, reason: str, at: Any) -> int:
        """Flag every Community profile as describing the graph before a load."""
        return await self.store.write("mark community profiles stale", _mark_stale, reason, at)

    async def domain_node_count(self) -> int:
        """Nodes other than the schema marker: zero means an empty database."""
        return await self.store.read("count nodes", _count_domain_nodes)

    async def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Nodes per label and relationships per type, as the database has them now."""
        return await self.store.read("count graph", _counts)
