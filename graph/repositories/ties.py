"""Ties as the API reads them: neighbourhoods, PageRank contributions, guarantees around a
customer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from graph.model import TieKind
from graph.queries import ties as q
from graph.read_models import Contribution, GuaranteeLink, Neighbourhood, TieRecord
from graph.repositories.customers import collected, grouped
from graph.store import QueryRunner, to_native


class TieRepository:
    def __init__(self, runner: QueryRunner) -> None:
        self.runner = runner

    async def neighbourhood(
        self,
        customer_id: str,
        *,
        kinds: Sequence[TieKind],
        depth: int,
        min_strength: float,
        limit: int,
    ) -> Neighbourhood:
        """Customers within ``depth`` ties, nearest first (at most ``limit``), and the ties
        among them and the customer."""
        row = await self.runner.fetch_one(
            "connections",
            q.neighbourhood(kinds, depth),
            customer_id=customer_id,
            min_strength=min_strength,
            limit=limit,
        )
        if row is None:
            return Neighbourhood([], [])
        ties = [
            TieRecord(t["src"], t["dst"], t["kind"], t["strength"], to_native(t["since"]))
            for t in row["ties"]
        ]
        return Neighbourhood([(n["id"], int(n["hop"])) for n in row["nodes"]], ties)

    async def pagerank_contributions(
        self, ids: Sequence[str], kinds: Sequence[TieKind], top: int
    ) -> list[list[Contribution]]:
        """The ``top`` neighbours carrying each customer's PageRank (a DataLoader's batch)."""
        page = await collected(
            self.runner, "pagerank contributions", q.pagerank_contributions(kinds), ids=list(ids)
        )
        found = grouped(
            page["rows"],
            ids,
            lambda r: Contribution(
                str(r["neighbour"]), float(r["share"]), float(r["contribution"])
            ),
        )
        return [group[:top] for group in found]

    async def guarantees_around(
        self, customer_id: str, *, hops: int, limit: int, as_of: date
    ) -> list[GuaranteeLink]:
        """Guarantees in force on ``as_of`` within ``hops`` (amounts in integer minor units),
        at most ``limit``."""
        rows = await self.runner.fetch(
            "guarantees around",
            q.guarantees_around(hops),
            customer_id=customer_id,
            limit=limit,
            as_of=as_of,
        )
        return [GuaranteeLink.from_row(r) for r in rows]
