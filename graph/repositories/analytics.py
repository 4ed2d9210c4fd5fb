"""Projections for algorithms and the write-back of their results, with provenance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.errors import QueryFailedError
from graph.model import TieKind
from graph.queries import analytics as q
from graph.store import GraphStore, to_native


async def _rows(tx: AsyncManagedTransaction, statement: Any, params: dict[str, Any]) -> list[Any]:
    result = await tx.run(statement, params)
    return [tuple(record.values()) async for record in result]


async def _write(
    tx: AsyncManagedTransaction, statement: Any, rows: list[dict[str, Any]], run_id: str
) -> int:
    record = await (await tx.run(statement, rows=rows, run_id=run_id)).single(strict=True)
    return int(record["written"])


async def _record(tx: AsyncManagedTransaction, run_id: str, properties: dict[str, Any]) -> None:
    await (await tx.run(q.RECORD_ALGORITHM_RUN, run_id=run_id, properties=properties)).consume()


class AnalyticsRepository:
    def __init__(self, store: GraphStore, *, batch_size: int = 10_000) -> None:
        self.store = store
        self.batch_size = batch_size

    async def ties(
        self, kinds: Sequence[TieKind], *, min_strength: float = 0.0
    ) -> list[tuple[str, str, float]]:
        """(src, dst, strength) of every tie of the given kinds."""
        rows = await self.store.read(
            "read ties", _rows, q.read_ties(tuple(kinds)), {"min_strength": min_strength}
        )
        return [(str(s), str(d), float(w)) for s, d, w in rows]

    async def gds_version(self) -> str | None:
        """The server's GDS version, or None when it has no GDS."""
        try:
            rows = await self.store.read("gds version", _rows, q.GDS_VERSION, {})
        except QueryFailedError:  # unknown function: no GDS on this server
            return None
        return str(rows[0][0]) if rows else None

    async def customer_ids(self) -> list[str]:
        rows = await self.store.read("read customer ids", _rows, q.READ_CUSTOMER_IDS, {})
        return [str(r[0]) for r in rows]

    async def read_property(self, prop: str) -> dict[str, Any]:
        rows = await self.store.read(f"read {prop}", _rows, q.read_property(prop), {})
        return {str(i): v for i, v in rows}

    async def write_property(self, prop: str, values: Mapping[str, Any], run_id: str) -> int:
        """Write one result property in batches; every value must reach its customer."""
        items = [{"id": k, "value": v} for k, v in values.items()]
        written = 0
        statement = q.write_property(prop)
        for start in range(0, len(items), self.batch_size):
            batch = items[start : start + self.batch_size]
            written += await self.store.write(f"write {prop}", _write, statement, batch, run_id)
        if written != len(items):
            raise QueryFailedError(
                f"write {prop}", None, f"{len(items) - written} customers vanished during the run"
            )
        return written

    async def record_run(self, run_id: str, properties: dict[str, Any]) -> None:
        await self.store.write("record algorithm run", _record, run_id, properties)

    async def segment_inputs(self) -> list[tuple[str, float | None, Any, Any]]:
        """(customer id, aum, onboarded_at, last_active_at) as Python values."""
        rows = await self.store.read("read segment inputs", _rows, q.READ_SEGMENT_INPUTS, {})
        return [
            (str(i), None if a is None else float(a), to_native(o), to_native(last))
            for i, a, o, last in rows
        ]

    async def gds_customer_ids(self, node_ids: Sequence[int]) -> dict[int, str]:
        rows = await self.store.read(
            "map GDS node ids", _rows, q.GDS_NODE_KEYS, {"ids": [int(i) for i in node_ids]}
        )
        return {int(i): str(c) for i, c in rows}


class RiskInputRepository:
    """The edges the risk-linkage algorithms read, and their RiskLinkage write-back."""

    def __init__(self, store: GraphStore, *, batch_size: int = 2_000) -> None:
        self.store = store
        self.batch_size = batch_size

    async def guarantees(self) -> list[tuple[str, str, float]]:
        rows = await self.store.read("read guarantees", _rows, q.READ_GUARANTEES, {})
        return [(str(s), str(d), float(a or 0.0)) for s, d, a in rows]

    async def identifier_uses(self) -> list[tuple[str, str]]:
        rows = await self.store.read("read identifier uses", _rows, q.READ_IDENTIFIER_USES, {})
        return [(str(c), str(i)) for c, i in rows]

    async def transfers(self) -> list[tuple[str, str, float, float]]:
        rows = await self.store.read("read transfers", _rows, q.READ_TRANSFERS, {})
        return [(str(s), str(d), float(a or 0.0), float(t)) for s, d, a, t in rows]

    async def shareholdings(self) -> list[tuple[str, str, float]]:
        rows = await self.store.read("read shareholdings", _rows, q.READ_SHAREHOLDINGS, {})
        return [(str(s), str(d), float(p)) for s, d, p in rows]

    async def replace_linkages(self, kind: str, linkages: list[dict[str, Any]], run_id: str) -> int:
        """Write this run's linkages of one kind and remove those it no longer finds."""
        written = 0
        for start in range(0, len(linkages), self.batch_size):
            batch = linkages[start : start + self.batch_size]
            written += await self.store.write(
                f"write {kind}", _write, q.WRITE_LINKAGES, batch, run_id
            )
        await self.store.write(f"drop stale {kind}", _delete_stale, kind, run_id)
        return written


async def _delete_stale(tx: AsyncManagedTransaction, kind: str, run_id: str) -> None:
    await (await tx.run(q.DELETE_STALE_LINKAGES, kind=kind, run_id=run_id)).consume()
