"""Projections for algorithms and the write-back of their results, with provenance."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, LiteralString

from neo4j import AsyncManagedTransaction

from graph.errors import QueryFailedError
from graph.model import TieKind
from graph.queries import analytics as q
from graph.queries import marketing as mq
from graph.queries.marketing import RiskFlagRule
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


async def _single(
    tx: AsyncManagedTransaction, statement: LiteralString, params: dict[str, Any]
) -> dict[str, Any]:
    record = await (await tx.run(statement, params)).single(strict=True)
    return dict(record)


async def _consume(
    tx: AsyncManagedTransaction, statement: LiteralString, params: dict[str, Any]
) -> None:
    await (await tx.run(statement, params)).consume()


async def _write_params(
    tx: AsyncManagedTransaction, statement: LiteralString, params: dict[str, Any]
) -> int:
    record = await (await tx.run(statement, params)).single(strict=True)
    return int(record["written"])


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
            community_property=self.community_property,
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


WHOLE_GRAPH = CustomerScope()


@dataclass(frozen=True)
class TieColumns:
    """Ties as three aligned lists: what the in-process engine builds its graph from."""

    src: list[str]
    dst: list[str]
    weight: list[float]

    def __len__(self) -> int:
        return len(self.src)

    def rows(self) -> list[tuple[str, str, float]]:
        return list(zip(self.src, self.dst, self.weight, strict=True))


class AnalyticsRepository:
    def __init__(
        self, store: GraphStore, *, batch_size: int = 10_000, page_customers: int = 20_000
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.page_customers = page_customers

    async def _collected(self, operation: str, statement: LiteralString, **params: Any) -> Any:
        return await self.store.read(operation, _single, statement, params)

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
            page = await self._collected(
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

    async def ties(
        self,
        kinds: Sequence[TieKind],
        *,
        min_strength: float = 0.0,
        scope: CustomerScope = WHOLE_GRAPH,
    ) -> list[tuple[str, str, float]]:
        """(src, dst, strength) of every tie of the given kinds."""
        columns = await self.tie_columns(kinds, min_strength=min_strength, scope=scope)
        return columns.rows()

    async def ties_around(
        self, ids: Sequence[str], kinds: Sequence[TieKind], *, min_strength: float = 0.0
    ) -> TieColumns:
        """The ties at these customers, either direction (a bounded neighbourhood read)."""
        page = await self._collected(
            "read ties around",
            q.read_ties_around(tuple(kinds)),
            ids=list(ids),
            min_strength=min_strength,
        )
        return TieColumns(page["src"], page["dst"], [float(w) for w in page["weight"]])

    async def gds_version(self) -> str | None:
        """The server's GDS version, or None when it has no GDS."""
        try:
            rows = await self.store.read("gds version", _rows, q.GDS_VERSION, {})
        except QueryFailedError:  # unknown function: no GDS on this server
            return None
        return str(rows[0][0]) if rows else None

    async def customer_ids(self, scope: CustomerScope = WHOLE_GRAPH) -> list[str]:
        """Customer ids in the scope, sorted."""
        page = await self._collected(
            "read customer ids", q.read_customer_ids(scope.predicate("c")), **scope.parameters()
        )
        return [str(i) for i in page["ids"]]

    async def gds_node_ids(self, customer_ids: Sequence[str]) -> list[int]:
        page = await self._collected(
            "map customer ids", q.GDS_NODE_IDS, customer_ids=list(customer_ids)
        )
        return [int(i) for i in page["ids"]]

    async def missing_customers(self, ids: Sequence[str]) -> list[str]:
        page = await self._collected("check customers", q.CUSTOMERS_EXIST, ids=list(ids))
        return [str(i) for i in page["missing"]]

    async def read_property(self, prop: str) -> dict[str, Any]:
        rows = await self.store.read(f"read {prop}", _rows, q.read_property(prop), {})
        return {str(i): v for i, v in rows}

    async def write_property(
        self,
        prop: str,
        values: Mapping[str, Any],
        run_id: str,
        *,
        on_batch: Callable[[int, int], Any] | None = None,
    ) -> int:
        """Write one result property in batches; every value must reach its customer.

        ``on_batch(done, total)`` is awaited (when it returns an awaitable) after each batch.
        """
        items = [{"id": k, "value": v} for k, v in values.items()]
        written = 0
        statement = q.write_property(prop)
        for start in range(0, len(items), self.batch_size):
            batch = items[start : start + self.batch_size]
            written += await self.store.write(f"write {prop}", _write, statement, batch, run_id)
            if on_batch is not None:
                pending = on_batch(start + len(batch), len(items))
                if pending is not None:
                    await pending
        if written != len(items):
            raise QueryFailedError(
                f"write {prop}", None, f"{len(items) - written} customers vanished during the run"
            )
        return written

    async def record_run(self, run_id: str, properties: dict[str, Any]) -> None:
        await self.store.write("record algorithm run", _record, run_id, properties)

    async def segment_inputs(self) -> list[tuple[str, int | None, Any, Any]]:
        """(customer id, aum in minor units, onboarded_at, last_active_at) as Python values."""
        rows = await self.store.read("read segment inputs", _rows, q.READ_SEGMENT_INPUTS, {})
        return [
            (str(i), None if a is None else int(a), to_native(o), to_native(last))
            for i, a, o, last in rows
        ]

    # --- community profiles ------------------------------------------------------------------
    async def community_breakdown(self, prop: str) -> dict[str, dict[str, dict[str, int]]]:
        """community id -> {"tiers"|"products"|"scenarios": {key: customers}}."""
        result: dict[str, dict[str, dict[str, int]]] = {}
        for part, statement in (
            ("tiers", q.read_community_tiers(prop)),
            ("products", q.read_community_products(prop)),
            ("scenarios", q.read_community_scenarios(prop)),
        ):
            for community, key, n in await self.store.read(
                f"read community {part}", _rows, statement, {}
            ):
                entry = result.setdefault(str(community), {})
                entry.setdefault(part, {})[str(key)] = int(n)
        return result

    async def replace_communities(
        self, algorithm: str, rows: list[dict[str, Any]], run_id: str
    ) -> int:
        """Write this run's Community nodes and delete the algorithm's older ones."""
        written = 0
        for start in range(0, len(rows), self.batch_size):
            written += await self.store.write(
                "write communities",
                _write_params,
                q.WRITE_COMMUNITIES,
                {"rows": rows[start : start + self.batch_size], "run_id": run_id},
            )
        await self.store.write(
            "drop stale communities",
            _consume,
            q.DELETE_STALE_COMMUNITIES,
            {"algorithm": algorithm, "run_id": run_id},
        )
        return written

    async def profiled_algorithms(self) -> list[str]:
        """Community algorithms whose partition has stored Community profiles."""
        page = await self._collected("read profiled algorithms", q.PROFILED_ALGORITHMS)
        return [str(a) for a in page["algorithms"]]

    async def refresh_community_profiles(self, rows: list[dict[str, Any]], run_id: str) -> int:
        """Rewrite the tier, product and scenario parts of existing Community profiles."""
        written = 0
        for start in range(0, len(rows), self.batch_size):
            written += await self.store.write(
                "refresh community profiles",
                _write_params,
                q.REFRESH_COMMUNITY_PROFILES,
                {"rows": rows[start : start + self.batch_size], "run_id": run_id},
            )
        return written

    # --- referral ------------------------------------------------------------------------------
    async def product_ids(self, product_id: str | None = None) -> list[str]:
        page = await self._collected("read products", q.READ_PRODUCT_IDS, product_id=product_id)
        return [str(i) for i in page["ids"]]

    async def holders(self, product_id: str) -> list[str]:
        page = await self._collected("read holders", q.READ_HOLDERS, product_id=product_id)
        return sorted(str(i) for i in page["ids"])

    async def scenario_members(self, scenario_id: str) -> list[str]:
        page = await self._collected(
            "read scenario members", q.READ_SCENARIO_MEMBERS, scenario_id=scenario_id
        )
        return sorted(str(i) for i in page["ids"])

    async def contactable(self, rule: RiskFlagRule) -> list[str]:
        """Customers with marketing consent who are not risk-flagged (possible introducers)."""
        page = await self._collected(
            "read contactable customers", mq.read_contactable(rule), **rule.parameters()
        )
        return [str(i) for i in page["ids"]]

    async def eligible_targets(self, product_id: str, rule: RiskFlagRule, as_of: date) -> list[str]:
        """Who may be targeted for a product: contactable and meeting its eligibility rules."""
        page = await self._collected(
            "read eligible targets",
            mq.read_eligible_targets(rule),
            product_id=product_id,
            as_of=as_of,
            **rule.parameters(),
        )
        return [str(i) for i in page["ids"]]

    async def risk_flags(self, ids: Sequence[str], rule: RiskFlagRule) -> dict[str, list[str]]:
        """Customer -> the reasons it is risk-flagged (RISK_RATING, RISK_LINKAGE,
        NEAR_DEFAULT), for the flagged ones among ``ids``."""
        page = await self._collected(
            "read risk flags", mq.read_risk_flags(rule), ids=list(ids), **rule.parameters()
        )
        return {str(r["id"]): [str(x) for x in r["reasons"]] for r in page["rows"]}

    async def replace_referral_targets(
        self, product_id: str, scenario_id: str, rows: list[dict[str, Any]], run_id: str
    ) -> int:
        """Replace the REFERRAL_TARGET rows of one (product, scenario) in one transaction."""
        return await self.store.write(
            "write referral targets", _replace_targets, product_id, scenario_id, rows, run_id
        )

    async def converted_referrals(self) -> tuple[list[str], list[str]]:
        page = await self._collected("read referrals", q.READ_CONVERTED_REFERRALS)
        return [str(i) for i in page["src"]], [str(i) for i in page["dst"]]

    async def guarantee_columns(self) -> tuple[list[str], list[str], list[int]]:
        """Guarantor ids, borrower ids and amounts in minor units (0 where unknown)."""
        page = await self._collected("read guarantees", q.READ_GUARANTEE_COLUMNS)
        return (
            [str(i) for i in page["src"]],
            [str(i) for i in page["dst"]],
            [int(a) for a in page["amount"]],
        )

    async def rm_book(self, rm_id: str) -> list[str]:
        page = await self._collected("read RM book", q.READ_RM_BOOK, rm_id=rm_id)
        return [str(i) for i in page["ids"]]


class RiskInputRepository:
    """The edges the risk-linkage algorithms read, and their RiskLinkage write-back."""

    def __init__(self, store: GraphStore, *, batch_size: int = 2_000) -> None:
        self.store = store
        self.batch_size = batch_size

    async def guarantees(self) -> list[tuple[str, str, int]]:
        src, dst, amount = await AnalyticsRepository(self.store).guarantee_columns()
        return list(zip(src, dst, amount, strict=True))

    async def identifier_uses(self) -> list[tuple[str, str]]:
        rows = await self.store.read("read identifier uses", _rows, q.READ_IDENTIFIER_USES, {})
        return [(str(c), str(i)) for c, i in rows]

    async def transfers(self) -> list[tuple[str, str, int, float]]:
        """(payer, payee, amount in minor units, epoch seconds) of every transfer."""
        rows = await self.store.read("read transfers", _rows, q.READ_TRANSFERS, {})
        return [(str(s), str(d), int(a or 0), float(t)) for s, d, a, t in rows]

    async def loan_balances(self) -> dict[str, int]:
        """Customer -> sum of their open LOAN-category holding balances, in minor units."""
        rows = await self.store.read("read loan balances", _rows, q.READ_LOAN_BALANCES, {})
        return {str(i): int(b) for i, b in rows}

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


async def _replace_targets(
    tx: AsyncManagedTransaction,
    product_id: str,
    scenario_id: str,
    rows: list[dict[str, Any]],
    run_id: str,
) -> int:
    await (
        await tx.run(q.DELETE_REFERRAL_TARGETS, product_id=product_id, scenario_id=scenario_id)
    ).consume()
    if not rows:
        return 0
    record = await (
        await tx.run(q.WRITE_REFERRAL_TARGETS, product_id=product_id, rows=rows, run_id=run_id)
    ).single(strict=True)
    return int(record["written"])


async def _delete_stale(tx: AsyncManagedTransaction, kind: str, run_id: str) -> None:
    await (await tx.run(q.DELETE_STALE_LINKAGES, kind=kind, run_id=run_id)).consume()
