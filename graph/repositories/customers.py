"""Customers: batched idempotent upserts and key look-ups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.model import Customer, RelationshipManager
from graph.queries import customers as q
from graph.queries import relationship_managers as rmq
from graph.store import GraphStore, to_native

DEFAULT_BATCH_SIZE = 5_000


@dataclass(frozen=True)
class UpsertResult:
    rows: int
    nodes_created: int
    relationships_created: int
    relationships_deleted: int
    properties_set: int


def _customer_row(customer: Customer) -> dict[str, Any]:
    return {
        "customer_id": customer.customer_id,
        "rm_id": customer.rm_id,
        "properties": customer.to_properties(),
    }


async def _upsert_batch(
    tx: AsyncManagedTransaction, statement: Any, rows: list[dict[str, Any]]
) -> tuple[int, int, int, int]:
    summary = await (await tx.run(statement, rows=rows)).consume()
    c = summary.counters
    return c.nodes_created, c.relationships_created, c.relationships_deleted, c.properties_set


async def _get_customer(tx: AsyncManagedTransaction, customer_id: str) -> Customer | None:
    record = await (await tx.run(q.GET_CUSTOMER, customer_id=customer_id)).single()
    if record is None:
        return None
    properties = {k: to_native(v) for k, v in record["customer"].items()}
    known = {k: v for k, v in properties.items() if k in Customer.model_fields}
    return Customer(**known, rm_id=record["rm_id"])


async def _count(tx: AsyncManagedTransaction, customer_id: str | None) -> int:
    if customer_id is None:
        record = await (await tx.run(q.COUNT_CUSTOMERS)).single(strict=True)
    else:
        result = await tx.run(q.COUNT_CUSTOMERS_WITH_ID, customer_id=customer_id)
        record = await result.single(strict=True)
    return int(record["count"])


class CustomerRepository:
    def __init__(self, store: GraphStore, *, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.store = store
        self.batch_size = batch_size

    async def upsert(self, customers: Sequence[Customer]) -> UpsertResult:
        """Create or update customers by ``customer_id``; running it twice changes nothing."""
        rows = [_customer_row(c) for c in customers]
        return await self._upsert("upsert customers", q.UPSERT_CUSTOMERS, rows)

    async def upsert_managers(self, managers: Sequence[RelationshipManager]) -> UpsertResult:
        rows = [{"rm_id": m.rm_id, "properties": m.to_properties()} for m in managers]
        return await self._upsert(
            "upsert relationship managers", rmq.UPSERT_RELATIONSHIP_MANAGERS, rows
        )

    async def _upsert(
        self, operation: str, statement: Any, rows: list[dict[str, Any]]
    ) -> UpsertResult:
        totals = [0, 0, 0, 0]
        for start in range(0, len(rows), self.batch_size):
            batch = rows[start : start + self.batch_size]
            counts = await self.store.write(operation, _upsert_batch, statement, batch)
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
        return UpsertResult(len(rows), *totals)

    async def get(self, customer_id: str) -> Customer | None:
        return await self.store.read("get customer", _get_customer, customer_id)

    async def count(self, customer_id: str | None = None) -> int:
        return await self.store.read("count customers", _count, customer_id)
