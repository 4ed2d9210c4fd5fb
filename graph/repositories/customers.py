"""Customers: the 360 view's batch look-ups (one per DataLoader), pages and searches, the
customer sets algorithms start from, and the result properties algorithms write on them."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from graph.errors import CrkgError, QueryFailedError, WriteOutcomeUnknownError
from graph.lost_commits import LOST_COMMIT_RETRIES
from graph.model import NodeLabel
from graph.queries import customers as q
from graph.queries import ties as tq
from graph.queries.algorithm_runs import MARK_PUBLISHED, PUBLISHED_PROPERTIES
from graph.queries.loads import BOOKKEEPING_PROPERTIES
from graph.queries.screens import RiskFlagRule
from graph.read_models import (
    CustomerRecord,
    HoldingRecord,
    IdentifierRecord,
    Influencer,
    ManagerRecord,
    ParticipationRecord,
    SegmentInputs,
)
from graph.store import BatchCallback, Executed, QueryRunner, Row, Statement, to_native

T = TypeVar("T")
logger = logging.getLogger(__name__)

# A name search needs a few words; Lucene refuses queries of more than 1,024 clauses (the CJK
# analyser makes one per pair of characters), so longer texts are refused here, clearly.
MAX_SEARCH_CHARACTERS = 100
MAX_SEARCH_WORDS = 10
_LUCENE_SPECIAL = set('+-&|!(){}[]^"~*?:\\/')


def clean(properties: Row | None) -> Row:
    """Node properties as Python values, without the loader's bookkeeping."""
    if properties is None:
        return {}
    return {k: to_native(v) for k, v in properties.items() if k not in BOOKKEEPING_PROPERTIES}


def grouped(rows: list[Row], ids: Sequence[str], build: Callable[[Row], T]) -> list[list[T]]:
    """A batch's rows (each with its ``id``) as one list per id, in the order of ``ids``."""
    groups: dict[str, list[T]] = defaultdict(list)
    for row in rows:
        groups[row["id"]].append(build(row))
    return [groups.get(i, []) for i in ids]


async def collected(runner: QueryRunner, operation: str, query: Any, **params: Any) -> Row:
    """The one record of a statement that collects its result (``rows``, ``ids``, …)."""
    record = await runner.fetch_one(operation, query, **params)
    if record is None:
        raise QueryFailedError(operation, None, "the statement returned no record")
    return record


class CustomerRepository:
    """``risk_rule`` is the deployment's risk-flag rule (``RiskFlagRule.from_settings``)."""

    def __init__(
        self,
        runner: QueryRunner,
        *,
        risk_rule: RiskFlagRule | None = None,
        batch_size: int = 10_000,
    ) -> None:
        self.runner = runner
        self.risk_rule = risk_rule or RiskFlagRule()
        self.batch_size = batch_size

    async def _rows(self, operation: str, query: Any, ids: Sequence[str]) -> list[Row]:
        found: list[Row] = (await collected(self.runner, operation, query, ids=list(ids)))["rows"]
        return found

    async def _ids(self, operation: str, query: Any, **params: Any) -> list[str]:
        return [str(i) for i in (await collected(self.runner, operation, query, **params))["ids"]]

    # --- batch look-ups (one per DataLoader) -------------------------------------------------
    async def by_ids(self, ids: Sequence[str]) -> list[CustomerRecord | None]:
        rows = await self._rows("customers by id", q.CUSTOMERS_BY_IDS, ids)
        found = {
            row["id"]: CustomerRecord.from_properties(
                {k: to_native(v) for k, v in row["customer"].items() if v is not None},
                row["rm_id"],
            )
            for row in rows
        }
        return [found.get(i) for i in ids]

    async def managers(self, ids: Sequence[str]) -> list[ManagerRecord | None]:
        rows = await self._rows("managers by id", q.MANAGERS_BY_IDS, ids)
        found = {
            row["id"]: ManagerRecord(
                str(row["manager"]["rm_id"]), row["manager"]["name"], row["manager"]["branch_id"]
            )
            for row in rows
        }
        return [found.get(i) for i in ids]

    async def holdings(self, ids: Sequence[str]) -> list[list[HoldingRecord]]:
        rows = await self._rows("holdings by customer", q.HOLDINGS_BY_CUSTOMERS, ids)
        return grouped(rows, ids, lambda r: HoldingRecord.of(r["product"], clean(r["holding"])))

    async def scenarios(self, ids: Sequence[str]) -> list[list[ParticipationRecord]]:
        rows = await self._rows("scenarios by customer", q.SCENARIOS_BY_CUSTOMERS, ids)
        return grouped(
            rows, ids, lambda r: ParticipationRecord.of(r["scenario"], clean(r["participation"]))
        )

    async def identifiers(self, ids: Sequence[str]) -> list[list[IdentifierRecord]]:
        rows = await self._rows("identifiers by customer", q.IDENTIFIERS_BY_CUSTOMERS, ids)
        return grouped(
            rows, ids, lambda r: IdentifierRecord(r["kind"], r["key"], int(r["shared_by"]))
        )

    async def missing(self, label: NodeLabel, ids: Sequence[str]) -> list[str]:
        """The ids of ``ids`` that name no ``label`` node, in the order given."""
        if not ids:
            return []
        found = set(
            await self._ids(f"existing {label.value}", q.existing_keys(label), ids=list(ids))
        )
        return [i for i in ids if i not in found]

    async def missing_customers(self, ids: Sequence[str]) -> list[str]:
        page = await collected(self.runner, "check customers", q.CUSTOMERS_EXIST, ids=list(ids))
        return [str(i) for i in page["missing"]]

    async def branch_exists(self, branch_id: str) -> bool:
        row = await self.runner.fetch_one("branch exists", q.BRANCH_EXISTS, branch_id=branch_id)
        return bool(row and row["exists"])

    # --- pages, searches and rankings --------------------------------------------------------
    async def page(
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
        mine: bool = False,
    ) -> list[str]:
        """One page of customer ids in id order (keyset after ``after``), filters optional;
        ``mine``: only the customers ``book_rm_id`` manages. A name search of one character
        matches the names starting with it (a surname)."""
        if mine and book_rm_id is None:
            raise ValueError("mine needs book_rm_id")
        statement = q.list_customers(
            search=None if search is None else search_mode,
            tier=tier is not None,
            scenario=scenario_id is not None,
            community_property=community_property,
            mine=mine,
            initial=search is not None and len(search.strip()) == 1,
        )
        return await self._ids(
            "list customers",
            statement,
            after=after,
            limit=limit,
            search=_lucene_terms(search) if search is not None else None,
            raw_search=None if search is None else search.strip(),
            book_rm_id=book_rm_id,
            tier=tier,
            scenario_id=scenario_id,
            community=community,
        )

    async def influencers(
        self,
        metric_property: str,
        *,
        limit: int,
        scenario_id: str | None = None,
        community_property: str | None = None,
        community: str | None = None,
        branch_id: str | None = None,
        contactable_only: bool = False,
    ) -> list[Influencer]:
        """Highest stored score first; each says why the customer is risk-flagged
        (RISK_RATING, RISK_LINKAGE, NEAR_DEFAULT; empty when not), and ``contactable_only``
        keeps only customers who may be contacted (consent, not flagged)."""
        statement = q.influencers(
            metric_property,
            scenario=scenario_id is not None,
            community_property=community_property,
            branch=branch_id is not None,
            rule=self.risk_rule,
            contactable_only=contactable_only,
        )
        rows = await self.runner.fetch(
            "influencers",
            statement,
            limit=limit,
            scenario_id=scenario_id,
            community=community,
            branch_id=branch_id,
            **self.risk_rule.parameters(),
        )
        return [
            Influencer(
                str(r["id"]),
                float(r["score"]),
                r["run_id"],
                list(r["risk_flags"]),
                int(r["scope_rank"]),
            )
            for r in rows
        ]

    # --- risk: defaults and flags -------------------------------------------------------------
    async def risk_flags(self, ids: Sequence[str]) -> list[list[str]]:
        """Why each customer is risk-flagged (RISK_RATING, RISK_LINKAGE, NEAR_DEFAULT; empty
        when not), under the deployment's one rule (a DataLoader's batch)."""
        page = await collected(
            self.runner,
            "risk flags",
            q.risk_flags_of(self.risk_rule),
            ids=list(ids),
            **self.risk_rule.parameters(),
        )
        found = {str(r["id"]): [str(f) for f in r["flags"]] for r in page["rows"]}
        return [found.get(i, []) for i in ids]

    async def defaulted(self, *, after: str, limit: int) -> list[str]:
        """Ids of defaulted borrowers (``defaulted_at`` set) after ``after``, in id order."""
        rows = await self.runner.fetch(
            "defaulted borrowers", q.DEFAULTED_BORROWERS, after=after, limit=limit
        )
        return [str(r["id"]) for r in rows]

    # --- examples the demo picks its subjects with -------------------------------------------
    async def largest_book_rm(self) -> str | None:
        row = await self.runner.fetch_one("largest book", q.LARGEST_BOOK_RM)
        return None if row is None else str(row["id"])

    async def most_held_product(self) -> str | None:
        row = await self.runner.fetch_one("most held product", q.MOST_HELD_PRODUCT)
        return None if row is None else str(row["id"])

    async def scenario_targeting_example(self) -> tuple[str, str] | None:
        """(product, scenario) for the demo's scenario run: the largest scenario and a product
        made for its kind (the payroll card in the largest payroll scenario)."""
        row = await self.runner.fetch_one(
            "scenario targeting example", q.SCENARIO_TARGETING_EXAMPLE
        )
        return None if row is None else (str(row["product_id"]), str(row["scenario_id"]))

    async def prospect_near_book(self, rm_id: str) -> str | None:
        row = await self.runner.fetch_one(
            "prospect near a book", tq.prospect_two_ties_from_book(), rm_id=rm_id
        )
        return None if row is None else str(row["id"])

    # --- customer sets algorithms start from -------------------------------------------------
    async def product_ids(self, product_id: str | None = None) -> list[str]:
        return await self._ids("read products", q.READ_PRODUCT_IDS, product_id=product_id)

    async def holders(self, product_id: str) -> list[str]:
        return sorted(await self._ids("read holders", q.READ_HOLDERS, product_id=product_id))

    async def scenario_members(self, scenario_id: str) -> list[str]:
        return sorted(
            await self._ids(
                "read scenario members", q.READ_SCENARIO_MEMBERS, scenario_id=scenario_id
            )
        )

    async def rm_book(self, rm_id: str) -> list[str]:
        return await self._ids("read RM book", q.READ_RM_BOOK, rm_id=rm_id)

    async def segment_inputs(self) -> list[SegmentInputs]:
        rows = await self.runner.fetch("read segment inputs", q.READ_SEGMENT_INPUTS)
        return [
            SegmentInputs(
                str(r["id"]),
                None if r["aum"] is None else int(r["aum"]),
                to_native(r["onboarded_at"]),
                to_native(r["last_active_at"]),
            )
            for r in rows
        ]

    # --- result properties -------------------------------------------------------------------
    async def read_result(self, prop: str) -> dict[str, Any]:
        """Customer id → the stored value of result property ``prop`` (where set)."""
        rows = await self.runner.fetch(f"read {prop}", q.read_result(prop))
        return {str(r["id"]): r["value"] for r in rows}

    async def write_result(
        self,
        prop: str,
        values: Mapping[str, Any],
        run_id: str,
        *,
        on_batch: BatchCallback | None = None,
    ) -> int:
        """Write one result property: staged in batches, then published at once."""
        written = await self.stage_result(prop, values, run_id, on_batch=on_batch)
        await self.publish_results({prop: written}, run_id)
        return written

    async def stage_result(
        self,
        prop: str,
        values: Mapping[str, Any],
        run_id: str,
        *,
        on_batch: BatchCallback | None = None,
    ) -> int:
        """Stage a run's values of ``prop`` in batches (nothing is served from the stage);
        every value must reach its customer."""
        items = [{"id": k, "value": v} for k, v in values.items()]
        written = await self.runner.write_batches(
            f"write {prop}",
            q.stage_result(prop),
            items,
            batch_size=self.batch_size,
            on_batch=on_batch,
            idempotent=True,  # SETs of given values into the run's own stage
            stage=q.staging_property(prop, run_id),
        )
        if written != len(items):
            raise QueryFailedError(
                f"write {prop}", None, f"{len(items) - written} customers vanished during the run"
            )
        return written

    async def publish_results(self, staged: Mapping[str, int], run_id: str) -> None:
        """Make what the run staged the served values of every property in ``staged`` (its
        count of staged values), and mark the run as having published them: one transaction,
        so a reader sees all of them from this run or none. Only this run's stage is
        published (another run of the same algorithm at once keeps its own); the stages of
        runs no longer running are dropped. When fewer values than staged are found (a
        customer deleted, or the stage dropped because this run was failed as abandoned) the
        transaction rolls back: the previous values stay served, never a mix."""
        statements: list[Statement] = []
        for prop in staged:
            stage = q.staging_property(prop, run_id)
            statements.append((q.publish_result(prop), {"run_id": run_id, "stage": stage}))
        for prop in staged:
            statements.append(
                (
                    q.DROP_ABANDONED_STAGES,
                    {"stage": q.staging_property(prop, run_id), "prefix": q.staging_prefix(prop)},
                )
            )
        statements.append(
            (
                MARK_PUBLISHED,
                {"run_id": run_id, "properties": list(staged), "now": datetime.now(UTC)},
            )
        )

        def all_published(done: Sequence[Executed]) -> None:  # inside the transaction
            for (prop, expected), executed in zip(staged.items(), done, strict=False):
                if executed.count() != expected:
                    raise QueryFailedError(
                        f"publish {prop}",
                        None,
                        f"{expected - executed.count()} of the {expected} staged values "
                        "vanished; nothing was published",
                    )

        operation = "publish " + ", ".join(staged)
        for lost in range(LOST_COMMIT_RETRIES + 1):
            try:
                await self.runner.execute_all(operation, statements, check=all_published)
                return
            except WriteOutcomeUnknownError as unknown:
                # the commit's answer was lost: the run's `published` list, written in the
                # same transaction, says whether it took effect; if not, the stage is intact
                # and publishing again is safe (publishing twice never is: it would find the
                # stage gone and roll back, leaving the run failed with its values served)
                try:
                    row = await self.runner.fetch_one(
                        "check publish", PUBLISHED_PROPERTIES, run_id=run_id
                    )
                except CrkgError as error:  # cannot tell: the outcome stays unknown
                    raise unknown from error
                if row is not None and set(staged) <= set(row["published"]):
                    logger.warning("%s: the commit's answer was lost; it took effect", operation)
                    return
                if lost == LOST_COMMIT_RETRIES:
                    raise
                logger.warning("%s: the commit's answer was lost; publishing again", operation)


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
