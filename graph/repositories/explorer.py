"""What the explorer page reads beyond the API's views: bulk neighbourhoods, expansions,
the ties along paths and the relationships that draw a risk linkage.

Every method is bounded by its arguments (customers, ties, pairs), so one request never reads
an unbounded part of the graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncManagedTransaction

from graph.model import TieKind
from graph.queries import explorer as q
from graph.repositories.views import Row, clean
from graph.store import GraphStore, to_native


async def _single(tx: AsyncManagedTransaction, statement: Any, params: Row) -> Row | None:
    record = await (await tx.run(statement, params)).single()
    return None if record is None else record.data()


def _tie(row: list[Any]) -> Row:
    src, dst, kind, strength, since = row
    return {"src": src, "dst": dst, "kind": kind, "strength": strength, "since": since}


@dataclass(frozen=True)
class Reach:
    """Customers within ``depth`` ties, nearest first then by id, cut at ``limit``."""

    nodes: list[tuple[str, int]]  # (customer id, hops from the centre); the centre at 0
    truncated: bool  # more customers were within reach than ``limit``


@dataclass(frozen=True)
class NeighbourPage:
    total: int  # neighbours in all (ties of at least the minimum strength)
    page: list[tuple[str, float]]  # (customer id, strongest tie strength), strongest first


@dataclass(frozen=True)
class LinkageDrawing:
    properties: Row
    members: list[Row]  # id, position, role (in position order)
    edges: list[Row]  # src, dst, amount, pct, at (for an identifier ring: none)
    identifiers: list[Row]  # key, kind, users (for an identifier ring)


class ExplorerRepository:
    def __init__(self, store: GraphStore) -> None:
        self.store = store

    async def _one(self, operation: str, statement: Any, **params: Any) -> Row | None:
        return await self.store.read(operation, _single, statement, params)

    async def reach(
        self,
        centres: Sequence[str],
        *,
        kinds: Sequence[TieKind],
        depth: int,
        min_strength: float,
        limit: int,
    ) -> Reach:
        """Breadth first from ``centres`` (hop 0), one statement per hop.

        The order is that of ``connections``: by hop, then by customer id, so the cut at
        ``limit`` (which counts the customers besides the centres) keeps the nearest.
        """
        seen: dict[str, int] = {c: 0 for c in centres}
        frontier = list(centres)
        found = 0
        for hop in range(1, depth + 1):
            if not frontier:
                break
            row = await self._one(
                "explorer frontier",
                q.frontier(kinds),
                ids=frontier,
                min_strength=min_strength,
            )
            fresh = sorted(set(row["ids"] if row else []) - seen.keys())
            room = limit - found
            if len(fresh) > room:
                seen.update((i, hop) for i in fresh[:room])
                return Reach(list(seen.items()), truncated=True)
            seen.update((i, hop) for i in fresh)
            found += len(fresh)
            frontier = fresh
        return Reach(list(seen.items()), truncated=False)

    async def ties_among(
        self, ids: Sequence[str], *, kinds: Sequence[TieKind], min_strength: float
    ) -> list[Row]:
        """The ties whose both ends are in ``ids`` (src, dst, kind, strength, since as ISO)."""
        row = await self._one(
            "explorer ties", q.ties_among(kinds), ids=list(ids), min_strength=min_strength
        )
        return [_tie(t) for t in (row["rows"] if row else [])]

    async def drawn_customers(
        self, ids: Sequence[str], *, community_property: str, score_property: str
    ) -> list[Row]:
        """Per id (in order, unknown ids left out): customer_id, kind, name, rm_id and the
        chosen community and score properties, under their own names."""
        row = await self._one(
            "explorer customers",
            q.drawn_customers(community_property, score_property),
            ids=list(ids),
        )
        return [
            {
                "customer_id": i,
                "kind": kind,
                "name": name,
                "rm_id": rm_id,
                community_property: community,
                score_property: score,
            }
            for i, kind, name, rm_id, community, score in (row["rows"] if row else [])
        ]

    async def ties_touching(
        self,
        ids: Sequence[str],
        among: Sequence[str],
        *,
        kinds: Sequence[TieKind],
        min_strength: float,
    ) -> list[Row]:
        """The ties between one of ``ids`` and one of ``among`` (each relationship once)."""
        if not ids or not among:
            return []
        row = await self._one(
            "explorer ties touching",
            q.ties_touching(kinds),
            ids=list(ids),
            among=list(among),
            min_strength=min_strength,
        )
        return [_tie(t) for t in (row["rows"] if row else [])]

    async def strongest_neighbours(
        self,
        customer_id: str,
        *,
        kinds: Sequence[TieKind],
        min_strength: float,
        offset: int,
        limit: int,
    ) -> NeighbourPage:
        row = await self._one(
            "explorer neighbours",
            q.strongest_neighbours(kinds),
            customer_id=customer_id,
            min_strength=min_strength,
            offset=offset,
            limit=limit,
        )
        if row is None:
            return NeighbourPage(0, [])
        page = [(str(n["id"]), float(n["strength"])) for n in row["page"]]
        return NeighbourPage(int(row["total"]), page)

    async def strongest_ties(
        self, pairs: Sequence[tuple[str, str]], *, kinds: Sequence[TieKind]
    ) -> list[Row]:
        row = await self._one(
            "explorer path ties",
            q.strongest_ties(kinds),
            pairs=[{"a": a, "b": b} for a, b in pairs],
        )
        return [_tie(t) for t in (row["rows"] if row else [])]

    async def linkage(
        self, linkage_id: str, *, limit: int, identifiers: int
    ) -> LinkageDrawing | None:
        """A linkage's properties, members and what draws it; None when there is none."""
        found = await self._one("explorer linkage", q.LINKAGE, linkage_id=linkage_id)
        if found is None:
            return None
        properties = clean(found["linkage"])
        members = sorted(found["members"], key=lambda m: (m["position"] is None, m["position"]))
        ids = [str(m["id"]) for m in members]
        kind = str(properties.get("kind"))
        if kind in q.LINKAGE_RELATIONSHIPS:
            row = await self._one(
                "explorer linkage edges", q.linkage_edges(kind), ids=ids, limit=limit
            )
            edges = [{**e, "at": to_native(e.get("at"))} for e in (row["rows"] if row else [])]
            return LinkageDrawing(properties, members, edges, [])
        row = await self._one(
            "explorer shared identifiers", q.SHARED_IDENTIFIERS, ids=ids, limit=identifiers
        )
        return LinkageDrawing(properties, members, [], list(row["rows"] if row else []))
