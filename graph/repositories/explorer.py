"""What the explorer page reads beyond the other repositories: bulk neighbourhoods,
expansions, the ties along paths and the relationships that draw a risk linkage.

Every method is bounded by its arguments (customers, ties, pairs), so one request never reads
an unbounded part of the graph. Answers are typed read models (ties are
:class:`~graph.read_models.TieRecord`, a linkage a :class:`~graph.read_models.LinkageRecord`);
the two that only the explorer reads are declared here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from graph.model import TieKind
from graph.queries import explorer as q
from graph.read_models import CustomerRecord, LinkageRecord, TieRecord
from graph.repositories.customers import clean
from graph.results import ResultProperty
from graph.store import QueryRunner, Row, to_native


# The bulk reads return each tie as a list ``[src, dst, kind, strength, since]`` with the date
# as ISO text: for 20,000 customers the driver's decoding of maps and Date values was most of
# the request's time (see graph/queries/explorer.py).
def _tie(row: Sequence[Any]) -> TieRecord:
    src, dst, kind, strength, since = row
    return TieRecord(
        str(src),
        str(dst),
        str(kind),
        None if strength is None else float(strength),
        None if since is None else date.fromisoformat(str(since)[:10]),
    )


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
class LinkageEdge:
    """A relationship among a linkage's members: a guarantee, a transfer or a shareholding."""

    src: str
    dst: str
    amount_minor: int | None  # guarantees and transfers (integer minor units)
    pct: float | None  # shareholdings
    at: date | datetime | None  # a transfer's time, a guarantee's start


@dataclass(frozen=True)
class SharedIdentifierRecord:
    """An identifier two or more of a ring's members use: its key, never the raw value."""

    key: str  # kind + keyed hash
    kind: str
    users: list[str]  # the members using it


@dataclass(frozen=True)
class LinkageDrawing:
    linkage: LinkageRecord  # its properties and members (in position order)
    edges: list[LinkageEdge]  # what draws it (for an identifier ring: none)
    identifiers: list[SharedIdentifierRecord]  # for an identifier ring


def _edge(row: Row) -> LinkageEdge:
    amount, pct = row.get("amount_minor"), row.get("pct")
    return LinkageEdge(
        str(row["src"]),
        str(row["dst"]),
        None if amount is None else int(amount),
        None if pct is None else float(pct),
        to_native(row.get("at")),
    )


class ExplorerRepository:
    def __init__(self, runner: QueryRunner) -> None:
        self.runner = runner

    async def _rows(self, operation: str, query: Any, **params: Any) -> list[Any]:
        """The ``rows`` a collecting statement returns (none when it returned no record): maps,
        or lists for the bulk reads of ties and customers."""
        row = await self.runner.fetch_one(operation, query, **params)
        return list(row["rows"]) if row else []

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
            row = await self.runner.fetch_one(
                "explorer frontier", q.frontier(kinds), ids=frontier, min_strength=min_strength
            )
            fresh = sorted({str(i) for i in (row["ids"] if row else [])} - seen.keys())
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
    ) -> list[TieRecord]:
        """The ties whose both ends are in ``ids``, each relationship once as stored."""
        rows = await self._rows(
            "explorer ties", q.ties_among(kinds), ids=list(ids), min_strength=min_strength
        )
        return [_tie(t) for t in rows]

    async def drawn_customers(
        self, ids: Sequence[str], *, community_property: str, score_property: str
    ) -> list[CustomerRecord]:
        """What drawing needs of each of ``ids`` (in order, unknown ids left out): id, kind,
        name, RM and the chosen community and score, not the whole profile (reading 20,000
        whole profiles is most of a large view's time)."""
        rows = await self._rows(
            "explorer customers",
            q.drawn_customers(community_property, score_property),
            ids=list(ids),
        )
        community, score = ResultProperty(community_property), ResultProperty(score_property)
        records = []
        for customer_id, kind, name, rm_id, community_value, score_value in rows:
            results = {
                prop: value
                for prop, value in ((community, community_value), (score, score_value))
                if value is not None
            }
            records.append(
                CustomerRecord(
                    customer_id=str(customer_id),
                    kind=None if kind is None else str(kind),
                    name=None if name is None else str(name),
                    rm_id=None if rm_id is None else str(rm_id),
                    results=results,
                )
            )
        return records

    async def ties_touching(
        self,
        ids: Sequence[str],
        among: Sequence[str],
        *,
        kinds: Sequence[TieKind],
        min_strength: float,
    ) -> list[TieRecord]:
        """The ties between one of ``ids`` and one of ``among`` (each relationship once)."""
        if not ids or not among:
            return []
        rows = await self._rows(
            "explorer ties touching",
            q.ties_touching(kinds),
            ids=list(ids),
            among=list(among),
            min_strength=min_strength,
        )
        return [_tie(t) for t in rows]

    async def strongest_neighbours(
        self,
        customer_id: str,
        *,
        kinds: Sequence[TieKind],
        min_strength: float,
        offset: int,
        limit: int,
    ) -> NeighbourPage:
        row = await self.runner.fetch_one(
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
    ) -> list[TieRecord]:
        """The strongest tie of each pair that has one."""
        rows = await self._rows(
            "explorer path ties",
            q.strongest_ties(kinds),
            pairs=[{"a": a, "b": b} for a, b in pairs],
        )
        return [_tie(t) for t in rows]

    async def linkage(
        self, linkage_id: str, *, limit: int, identifiers: int
    ) -> LinkageDrawing | None:
        """A linkage, its members and what draws it; None when there is none."""
        found = await self.runner.fetch_one("explorer linkage", q.LINKAGE, linkage_id=linkage_id)
        if found is None:
            return None
        linkage = LinkageRecord.from_properties(clean(found["linkage"]), found["members"])
        ids = [m.customer_id for m in linkage.members]
        if linkage.kind in q.LINKAGE_RELATIONSHIPS:
            rows = await self._rows(
                "explorer linkage edges", q.linkage_edges(linkage.kind), ids=ids, limit=limit
            )
            return LinkageDrawing(linkage, [_edge(e) for e in rows], [])
        rows = await self._rows(
            "explorer shared identifiers", q.SHARED_IDENTIFIERS, ids=ids, limit=identifiers
        )
        shared = [
            SharedIdentifierRecord(str(i["key"]), str(i["kind"]), [str(u) for u in i["users"]])
            for i in rows
        ]
        return LinkageDrawing(linkage, [], shared)
