"""What algorithms read: scoped customer sets, the tie graph in pages, the edges of the risk
searches and cascades, and the ids GDS needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, LiteralString

from graph.errors import QueryFailedError
from graph.model import TieKind
from graph.queries import projections as q
from graph.read_models import GuaranteeEdge, TieColumns
from graph.repositories.customers import collected
from graph.store import QueryRunner


@dataclass(frozen=True)
class CustomerScope:
    """Which customers and ties a read covers; all None = the whole graph.

    Customers: participants of a scenario, members of a community (``community_property`` =
    ``community_<algorithm>`` holding ``community_id``), a branch. Ties: both ends in scope,
    and ``since`` inside [since_from, since_to] when a window is given (ties without a
    ``since`` are then left out).
    """

    scenario_id: str | None = None
    branch_id: str | None = None
    community_property: str | None = None
    community_id: str | None = None
    since_from: date | None = None
    since_to: date | None = None

    def predicate(self, var: Literal["a", "b", "c"]) -> LiteralString:
        return q.customer_predicate(
            var,
            scenario=self.scenario_id is not None,
            branch=self.branch_id is not None,
            community_property_name=self.community_property,
        )

    def window(self) -> LiteralString:
        return q.tie_window_predicate(
            since_from=self.since_from is not None, since_to=self.since_to is not None
        )

    def parameters(self) -> dict[str, Any]:
        return {
            "scope_scenario_id": self.scenario_id,
            "scope_branch_id": self.branch_id,
            "scope_community_id": self.community_id,
            "scope_since_from": self.since_from,
            "scope_since_to": self.since_to,
        }

    def gds_projection(
        self, kinds: Sequence[TieKind], min_strength: float
    ) -> tuple[LiteralString, dict[str, Any]]:
        """The GDS Cypher projection of this scope's tie graph and its parameters."""
        query = q.gds_cypher_projection(
            tuple(kinds),
            source=self.predicate("a"),
            target=self.predicate("b"),
            window=self.window(),
        )
        return query, {**self.parameters(), "min_strength": min_strength}


WHOLE_GRAPH = CustomerScope()


class ProjectionRepository:
    def __init__(self, runner: QueryRunner, *, page_customers: int = 20_000) -> None:
        self.runner = runner
        self.page_customers = page_customers

    async def customer_ids(self, scope: CustomerScope = WHOLE_GRAPH) -> list[str]:
        """Customer ids in the scope, sorted."""
        page = await collected(
            self.runner,
            "read customer ids",
            q.read_customer_ids(scope.predicate("c")),
            **scope.parameters(),
        )
        return [str(i) for i in page["ids"]]

    async def tie_columns(
        self,
        kinds: Sequence[TieKind],
        *,
        min_strength: float = 0.0,
        scope: CustomerScope = WHOLE_GRAPH,
        customers: Sequence[str] | None = None,
    ) -> TieColumns:
        """Every tie of the given kinds inside the scope, read in pages of customers.

        ``customers`` are the scope's sorted ids when the caller already has them.
        """
        ids = list(customers) if customers is not None else await self.customer_ids(scope)
        statement = q.read_ties(
            tuple(kinds),
            source=scope.predicate("a"),
            target=scope.predicate("b"),
            window=scope.window(),
        )
        src: list[str] = []
        dst: list[str] = []
        weight: list[float] = []
        bounds = sorted(ids)[:: self.page_customers]
        for i, low in enumerate(bounds):
            high = bounds[i + 1] if i + 1 < len(bounds) else None
            page = await collected(
                self.runner,
                "read ties",
                statement,
                lo=low,
                hi=high,
                min_strength=min_strength,
                **scope.parameters(),
            )
            src.extend(page["src"])
            dst.extend(page["dst"])
            weight.extend(float(w) for w in page["weight"])
        return TieColumns(src, dst, weight)

    async def tie_records(self, kinds: Sequence[TieKind]) -> list[tuple[str, str, float]]:
        """Every tie as one record each: the unpaged read ``bench/algorithms_read.py`` times."""
        rows = await self.runner.fetch(
            "read ties per record", q.read_ties_per_record(tuple(kinds)), min_strength=0.0
        )
        return [(str(r["src"]), str(r["dst"]), float(r["weight"])) for r in rows]

    async def ties_around(
        self, ids: Sequence[str], kinds: Sequence[TieKind], *, min_strength: float = 0.0
    ) -> TieColumns:
        """The ties at these customers, either direction (a bounded neighbourhood read)."""
        page = await collected(
            self.runner,
            "read ties around",
            q.read_ties_around(tuple(kinds)),
            ids=list(ids),
            min_strength=min_strength,
        )
        return TieColumns(page["src"], page["dst"], [float(w) for w in page["weight"]])

    async def gds_version(self) -> str | None:
        """The server's GDS version, or None when it has no GDS."""
        try:
            row = await self.runner.fetch_one("gds version", q.GDS_VERSION)
        except QueryFailedError:  # unknown function: no GDS on this server
            return None
        return None if row is None else str(row["version"])

    async def gds_node_ids(self, customer_ids: Sequence[str]) -> list[int]:
        page = await collected(
            self.runner, "map customer ids", q.GDS_NODE_IDS, customer_ids=list(customer_ids)
        )
        return [int(i) for i in page["ids"]]

    # --- the edges of the risk searches and cascades -----------------------------------------
    async def guarantee_columns(self, as_of: date) -> tuple[list[str], list[str], list[int]]:
        """Guarantor ids, borrower ids and amounts in minor units (0 where unknown) of the
        guarantees in force on ``as_of``."""
        page = await collected(
            self.runner, "read guarantees", q.READ_GUARANTEE_COLUMNS, as_of=as_of
        )
        return (
            [str(i) for i in page["src"]],
            [str(i) for i in page["dst"]],
            [int(a) for a in page["amount"]],
        )

    async def guarantees(self, as_of: date) -> list[GuaranteeEdge]:
        """The guarantees in force on ``as_of`` (ended ones are history, not exposure)."""
        src, dst, amount = await self.guarantee_columns(as_of)
        return [GuaranteeEdge(*edge) for edge in zip(src, dst, amount, strict=True)]

    async def identifier_uses(self) -> list[tuple[str, str]]:
        rows = await self.runner.fetch("read identifier uses", q.READ_IDENTIFIER_USES)
        return [(str(r["customer"]), str(r["identifier"])) for r in rows]

    async def transfers(self) -> list[tuple[str, str, int, float]]:
        """(payer, payee, amount in minor units, epoch seconds) of every transfer."""
        rows = await self.runner.fetch("read transfers", q.READ_TRANSFERS)
        return [(str(r["src"]), str(r["dst"]), int(r["amount"] or 0), float(r["at"])) for r in rows]

    async def loan_balances(self) -> dict[str, int]:
        """Customer -> sum of their open LOAN-category holding balances, in minor units."""
        rows = await self.runner.fetch("read loan balances", q.READ_LOAN_BALANCES)
        return {str(r["id"]): int(r["balance"]) for r in rows}

    async def shareholdings(self) -> list[tuple[str, str, float]]:
        rows = await self.runner.fetch("read shareholdings", q.READ_SHAREHOLDINGS)
        return [(str(r["src"]), str(r["dst"]), float(r["pct"])) for r in rows]

    async def converted_referrals(self) -> tuple[list[str], list[str]]:
        page = await collected(self.runner, "read referrals", q.READ_CONVERTED_REFERRALS)
        return [str(i) for i in page["src"]], [str(i) for i in page["dst"]]
