"""What the API reads: batch look-ups for its DataLoaders and one-query views.

Every method is one round trip. Values come back as plain Python (temporal values converted),
with the loader's bookkeeping properties removed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from neo4j import AsyncManagedTransaction

from graph.errors import CrkgError
from graph.model import NodeLabel, TieKind
from graph.queries import views as q
from graph.queries.marketing import RiskFlagRule
from graph.store import GraphStore, to_native

Row = dict[str, Any]
MEMBER_KEY_SEPARATOR = "\x1f"  # cannot occur in ids: keys of the community-members loader


async def _records(tx: AsyncManagedTransaction, statement: Any, params: Row) -> list[Row]:
    result = await tx.run(statement, params)
    return [record.data() async for record in result]


async def _collected(tx: AsyncManagedTransaction, statement: Any, params: Row) -> list[Row]:
    """The ``rows`` list of a statement that collects its result into one record."""
    record = await (await tx.run(statement, params)).single(strict=True)
    rows: list[Row] = record["rows"]
    return rows


async def _collected_ids(tx: AsyncManagedTransaction, statement: Any, params: Row) -> list[str]:
    record = await (await tx.run(statement, params)).single(strict=True)
    return [str(i) for i in record["ids"]]


async def _write_records(tx: AsyncManagedTransaction, statement: Any, params: Row) -> None:
    await (await tx.run(statement, params)).consume()


def clean(properties: Row | None) -> Row:
    """Node properties as Python values, without the loader's bookkeeping."""
    if properties is None:
        return {}
    return {k: to_native(v) for k, v in properties.items() if k not in q.HIDDEN_PROPERTIES}


def _grouped(rows: list[Row], ids: Sequence[str], build: Any) -> list[list[Any]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        groups[row["id"]].append(build(row))
    return [groups.get(i, []) for i in ids]


@dataclass(frozen=True)
class Neighbourhood:
    nodes: list[tuple[str, int]]  # (customer id, hops away), nearest first
    ties: list[Row]  # src, dst, kind, strength, since


@dataclass(frozen=True)
class LinkageRow:
    properties: Row
    members: list[Row]  # id, position, role (ordered by position)


class ViewRepository:
    """``risk_rule`` is the deployment's risk-flag rule (``RiskFlagRule.from_settings``)."""

    def __init__(self, store: GraphStore, *, risk_rule: RiskFlagRule | None = None) -> None:
        self.store = store
        self.risk_rule = risk_rule or RiskFlagRule()

    async def _read(self, operation: str, statement: Any, **params: Any) -> list[Row]:
        return await self.store.read(operation, _records, statement, params)

    async def _batch(self, operation: str, statement: Any, ids: Sequence[str]) -> list[Row]:
        return await self.store.read(operation, _collected, statement, {"ids": list(ids)})

    # --- batch look-ups (one per DataLoader) -------------------------------------------------
    async def customers(self, ids: Sequence[str]) -> list[Row | None]:
        rows = await self._batch("customers by id", q.CUSTOMERS_BY_IDS, ids)
        # absent properties come back as null: drop them, so "absent" reads alike everywhere
        found = {
            row["id"]: {
                **{k: to_native(v) for k, v in row["customer"].items() if v is not None},
                "rm_id": row["rm_id"],
            }
            for row in rows
        }
        return [found.get(i) for i in ids]

    async def managers(self, ids: Sequence[str]) -> list[Row | None]:
        rows = await self._batch("managers by id", q.MANAGERS_BY_IDS, ids)
        found = {row["id"]: clean(row["manager"]) for row in rows}
        return [found.get(i) for i in ids]

    async def holdings(self, ids: Sequence[str]) -> list[list[Row]]:
        rows = await self._batch("holdings by customer", q.HOLDINGS_BY_CUSTOMERS, ids)
        return _grouped(rows, ids, lambda r: {**clean(r["product"]), **clean(r["holding"])})

    async def scenarios(self, ids: Sequence[str]) -> list[list[Row]]:
        rows = await self._batch("scenarios by customer", q.SCENARIOS_BY_CUSTOMERS, ids)
        return _grouped(rows, ids, lambda r: {**clean(r["scenario"]), **clean(r["participation"])})

    async def linkages_of(self, ids: Sequence[str]) -> list[list[Row]]:
        rows = await self._batch("linkages by customer", q.LINKAGES_BY_CUSTOMERS, ids)
        return _grouped(rows, ids, lambda r: {**clean(r["linkage"]), "role": r["role"]})

    async def identifiers(self, ids: Sequence[str]) -> list[list[Row]]:
        rows = await self._batch("identifiers by customer", q.IDENTIFIERS_BY_CUSTOMERS, ids)
        return _grouped(
            rows, ids, lambda r: {"kind": r["kind"], "key": r["key"], "shared_by": r["shared_by"]}
        )

    async def communities(self, ids: Sequence[str]) -> list[Row | None]:
        rows = await self._batch("communities by id", q.COMMUNITIES_BY_IDS, ids)
        found = {row["id"]: _community(row["community"]) for row in rows}
        return [found.get(i) for i in ids]

    async def pagerank_contributions(
        self, ids: Sequence[str], kinds: Sequence[TieKind], top: int
    ) -> list[list[Row]]:
        rows = await self._batch("pagerank contributions", q.pagerank_contributions(kinds), ids)
        grouped = _grouped(
            rows, ids, lambda r: {"id": r["neighbour"], "contribution": r["contribution"]}
        )
        return [group[:top] for group in grouped]

    async def missing(self, label: NodeLabel, ids: Sequence[str]) -> list[str]:
        """The ids of ``ids`` that name no ``label`` node, in the order given."""
        if not ids:
            return []
        rows = await self.store.read(
            f"existing {label.value}", _collected_ids, q.existing_keys(label), {"ids": list(ids)}
        )
        found = set(rows)
        return [i for i in ids if i not in found]

    async def branch_exists(self, branch_id: str) -> bool:
        rows = await self._read("branch exists", q.BRANCH_EXISTS, branch_id=branch_id)
        return bool(rows and rows[0]["exists"])

    # --- one-query views ---------------------------------------------------------------------
    async def customer_page(
        self,
        *,
        after: str,
        limit: int,
        search: str | None = None,
        search_mode: Literal["names", "book_names", "id"] = "names",
        book_rm_id: str | None = None,
        tier: str | None = None,
        scenario_id: str | None = None,
        community_property: str | None = None,
        community: str | None = None,
    ) -> list[str]:
        statement = q.list_customers(
            search=None if search is None else search_mode,
            tier=tier is not None,
            scenario=scenario_id is not None,
            community_property=community_property,
        )
        rows = await self._read(
            "list customers",
            statement,
            after=after,
            limit=limit,
            search=_lucene_terms(search) if search is not None else None,
            raw_search=search,
            book_rm_id=book_rm_id,
            tier=tier,
            scenario_id=scenario_id,
            community=community,
        )
        return [str(i) for i in rows[0]["ids"]]

    async def largest_book_rm(self) -> str | None:
        rows = await self._read("largest book", q.LARGEST_BOOK_RM)
        return str(rows[0]["id"]) if rows else None

    async def most_held_product(self) -> str | None:
        rows = await self._read("most held product", q.MOST_HELD_PRODUCT)
        return str(rows[0]["id"]) if rows else None

    async def scenario_targeting_example(self) -> tuple[str, str] | None:
        """(product, scenario) for the demo's scenario run: the largest scenario and a product
        made for its kind (the payroll card in the largest payroll scenario)."""
        rows = await self._read("scenario targeting example", q.SCENARIO_TARGETING_EXAMPLE)
        return (str(rows[0]["product_id"]), str(rows[0]["scenario_id"])) if rows else None

    async def prospect_near_book(self, rm_id: str) -> str | None:
        rows = await self._read(
            "prospect near a book", q.prospect_two_ties_from_book(), rm_id=rm_id
        )
        return str(rows[0]["id"]) if rows else None

    async def neighbourhood(
        self,
        customer_id: str,
        *,
        kinds: Sequence[TieKind],
        depth: int,
        min_strength: float,
        limit: int,
    ) -> Neighbourhood:
        rows = await self._read(
            "connections",
            q.neighbourhood(kinds, depth),
            customer_id=customer_id,
            min_strength=min_strength,
            limit=limit,
        )
        if not rows:
            return Neighbourhood([], [])
        row = rows[0]
        ties = [{**tie, "since": to_native(tie["since"])} for tie in row["ties"]]
        return Neighbourhood([(n["id"], int(n["hop"])) for n in row["nodes"]], ties)

    async def community_page(
        self, *, algorithm: str | None, min_size: int, offset: int, limit: int
    ) -> list[Row]:
        rows = await self._read(
            "list communities",
            q.COMMUNITIES,
            algorithm=algorithm,
            min_size=min_size,
            offset=offset,
            limit=limit,
        )
        return [_community(row["community"]) for row in rows]

    async def community_penetration(self, community_id: str, product_id: str) -> Row | None:
        """How many of a community's members hold a product (any product, zeros included).

        ``{community_id, product_id, holders, size, share, stale, run_id}``; None when the
        community or the product does not exist. ``stale`` is true when a load changed
        customers, holdings or participation after the profile was computed.
        """
        rows = await self._read(
            "community penetration",
            q.COMMUNITY_PENETRATION,
            community_id=community_id,
            product_id=product_id,
        )
        row = rows[0]
        if not row["community_found"] or not row["product_found"]:
            return None
        holders = int(json.loads(row["holders"] or "{}").get(product_id, 0))
        size = int(row["size"])
        return {
            "community_id": community_id,
            "product_id": product_id,
            "holders": holders,
            "size": size,
            "share": holders / size if size else 0.0,
            "stale": bool(row["stale"]),
            "run_id": row["run_id"],
        }

    async def community_members(self, keys: Sequence[str]) -> list[list[str]]:
        """Member pages; a key is ``algorithm property|local id|after|limit`` (a DataLoader's)."""
        pages_by_property: dict[str, list[Row]] = defaultdict(list)
        for key in keys:
            prop, local_id, after, limit = key.split(MEMBER_KEY_SEPARATOR)
            pages_by_property[prop].append(
                {"key": key, "local_id": local_id, "after": after, "limit": int(limit)}
            )
        found: dict[str, list[str]] = {}
        for prop, pages in pages_by_property.items():
            rows = await self.store.read(
                "community members", _collected, q.community_members(prop), {"pages": pages}
            )
            found.update({row["key"]: [str(i) for i in row["ids"]] for row in rows})
        return [found.get(key, []) for key in keys]

    async def influencers(
        self,
        metric_property: str,
        *,
        limit: int,
        scenario_id: str | None = None,
        community_property: str | None = None,
        community: str | None = None,
        branch_id: str | None = None,
        exclude_flagged: bool = False,
    ) -> list[Row]:
        """Rows ``{id, score, run_id, risk_flags}``, highest score first; ``risk_flags`` lists
        why each customer is risk-flagged (RISK_RATING, RISK_LINKAGE, NEAR_DEFAULT; empty
        when not), and ``exclude_flagged`` leaves flagged customers out."""
        statement = q.influencers(
            metric_property,
            scenario=scenario_id is not None,
            community_property=community_property,
            branch=branch_id is not None,
            rule=self.risk_rule,
            exclude_flagged=exclude_flagged,
        )
        return await self._read(
            "influencers",
            statement,
            limit=limit,
            scenario_id=scenario_id,
            community=community,
            branch_id=branch_id,
            **self.risk_rule.parameters(),
        )

    async def referral_targets(
        self,
        product_id: str,
        *,
        scenario_key: str,
        scenario_id: str | None,
        limit: int,
        as_of: date | None = None,
    ) -> list[Row]:
        """Stored targets, best first, screened again now: each still consents, is not
        risk-flagged and meets the product's eligibility on ``as_of`` (default today).

        Each row is the REFERRAL_TARGET's properties plus ``id``; ``introducers_json`` keeps
        only the introducers who still consent and are not flagged, and
        ``introducers_dropped`` says how many were removed.
        """
        rows = await self._read(
            "referral targets",
            q.referral_targets(self.risk_rule),
            product_id=product_id,
            scenario_key=scenario_key,
            scenario_id=scenario_id,
            limit=limit,
            as_of=as_of or datetime.now(UTC).date(),
            **self.risk_rule.parameters(),
        )
        found = []
        for row in rows:
            target = clean(row["target"])
            allowed = set(row["introducers_ok"])
            stored = json.loads(target.get("introducers_json") or "[]")
            kept = [i for i in stored if i.get("customer_id") in allowed]
            target["introducers_json"] = json.dumps(kept, ensure_ascii=False)
            target["introducer_ids"] = [i["customer_id"] for i in kept]
            target["introducers_dropped"] = len(stored) - len(kept)
            found.append({"id": row["id"], **target})
        return found

    async def linkages(
        self, kind: str, *, min_size: int, max_size: int, limit: int, order_by: str = "size"
    ) -> list[LinkageRow]:
        """Stored linkages of one kind, largest first by ``order_by``: ``size`` (then score),
        ``amount`` (amount_minor), ``score``, ``total_exposure``, ``loan_balance`` or
        ``guarantees_out`` (control groups)."""
        rows = await self._read(
            f"{kind} linkages",
            q.linkages(order_by),
            kind=kind,
            min_size=min_size,
            max_size=max_size,
            limit=limit,
        )
        return [
            LinkageRow(
                clean(row["linkage"]),
                sorted(row["members"], key=lambda m: (m["position"] is None, m["position"])),
            )
            for row in rows
        ]

    async def control_groups(
        self, first: int, order_by: str = "total_exposure"
    ) -> list[LinkageRow]:
        """Related-party (control) groups, largest ``total_exposure_minor`` first by default
        (or ``loan_balance``, ``guarantees_out``, ``size``). Each row's properties carry
        ``loan_balance_minor``, ``guarantees_out_minor`` and ``total_exposure_minor`` (integer
        minor units) and its members (controller at position 0)."""
        return await self.linkages(
            "CONTROL_GROUP", min_size=1, max_size=1_000_000, limit=first, order_by=order_by
        )

    async def control_group(self, customer_id: str) -> LinkageRow | None:
        """The largest control group ``customer_id`` belongs to, or None."""
        rows = await self._read("related-party group", q.GROUP_OF_CUSTOMER, customer_id=customer_id)
        if not rows:
            return None
        row = rows[0]
        members = sorted(row["members"], key=lambda m: (m["position"] is None, m["position"]))
        return LinkageRow(clean(row["linkage"]), members)

    async def group_shareholdings(self, ids: Sequence[str]) -> list[list[Row]]:
        """The shareholdings between the members of each group (a DataLoader's batch)."""
        rows = await self._batch("shareholdings in groups", q.SHAREHOLDINGS_IN_GROUPS, ids)
        return _grouped(rows, ids, lambda r: r["holding"])

    async def guarantees_around(
        self, customer_id: str, *, hops: int, limit: int
    ) -> list[tuple[str, str, int]]:
        """(guarantor, borrower, amount in integer minor units) within ``hops``."""
        rows = await self._read(
            "guarantees around",
            q.guarantees_around(hops),
            customer_id=customer_id,
            limit=limit,
        )
        return [(str(r["src"]), str(r["dst"]), int(r["amount_minor"])) for r in rows]

    async def algorithm_runs(self, name: str | None, limit: int) -> list[Row]:
        rows = await self._read("algorithm runs", q.ALGORITHM_RUNS, name=name, limit=limit)
        return [clean(row["run"]) for row in rows]

    async def algorithm_run(self, run_id: str) -> Row | None:
        rows = await self._read("algorithm run", q.ALGORITHM_RUN, run_id=run_id)
        return clean(rows[0]["run"]) if rows else None

    # --- audit ---------------------------------------------------------------------------
    async def record_audit_events(self, events: list[Row]) -> None:
        await self.store.write(
            "record audit events", _write_records, q.RECORD_AUDIT_EVENTS, {"events": events}
        )


def _community(properties: Row) -> Row:
    row = clean(properties)
    for key in (
        "tier_mix_json",
        "product_penetration_json",
        "product_holders_json",
        "dominant_scenarios_json",
    ):
        text = row.pop(key, None)
        row[key.removesuffix("_json")] = json.loads(text) if text else None
    return row


_LUCENE_SPECIAL = set('+-&|!(){}[]^"~*?:\\/')


# A name search needs a few words; Lucene refuses queries of more than 1,024 clauses (the CJK
# analyser makes one per pair of characters), so longer texts are refused here, clearly.
MAX_SEARCH_CHARACTERS = 100
MAX_SEARCH_WORDS = 10


def _lucene_terms(text: str) -> str:
    """A user's search text as plain Lucene terms: operators escaped, nothing interpreted."""
    stripped = text.strip()
    if len(stripped) > MAX_SEARCH_CHARACTERS or len(stripped.split()) > MAX_SEARCH_WORDS:
        raise CrkgError(
            f"search has {len(stripped)} characters in {len(stripped.split())} words; "
            f"at most {MAX_SEARCH_CHARACTERS} characters in {MAX_SEARCH_WORDS} words",
            hint="search for a name or a customer id",
        )
    # lower case: AND / OR / NOT stay words (the analyser lower-cases what it indexed anyway)
    escaped = "".join(f"\\{ch}" if ch in _LUCENE_SPECIAL else ch for ch in stripped.lower())
    return escaped or '""'
