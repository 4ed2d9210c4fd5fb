"""REFERRAL_TARGET relationships: replaced per (product, scenario) by a referral run, screened
again whenever they are read; and the screens a run picks targets and introducers with."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, LiteralString

from graph import clock
from graph.lists import kept_introducers
from graph.model import TieKind
from graph.queries import referral_targets as q
from graph.queries.screens import RiskFlagRule
from graph.read_models import IntroducerRecord, ReferralTargetRecord
from graph.reasons import Explanation, ReasonFacts, reason_sentences
from graph.repositories.customers import clean, collected
from graph.store import QueryRunner


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _day(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True)
class ReferralHistoryRows:
    """The dated history a learned referral model reads for one product (days since
    1970-01-01, None: no date stored): customers (id, onboarded, tier), ties (src, dst, kind,
    strength, since), participations (customer, scenario, since), the product's holdings
    that count (customer, since) and who may take the product at all."""

    customers: list[tuple[str, int | None, str | None]]
    ties: list[tuple[str, str, str, float, int | None]]
    participation: list[tuple[str, str, int | None]]
    holdings: list[tuple[str, int | None]]
    eligible: list[str]


def _parts(text: Any) -> list[dict[str, Any]]:
    parts = json.loads(text) if isinstance(text, str) else []
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []


def _explained(target: dict[str, Any], kept: list[dict[str, Any]]) -> Explanation | None:
    """The target's model, parts and sentences, told again from its stored facts and the
    introducers the read kept (a sentence never names one who may no longer be contacted);
    None for a target written before stage 2 of issue 13."""
    stored = target.get("reason_facts_json")
    if not isinstance(stored, str):
        return None
    facts = json.loads(stored)
    path = [str(p) for p in (kept[0].get("path") or [])] if kept else []
    reason_zh, reason_en = reason_sentences(
        ReasonFacts.from_json(facts if isinstance(facts, dict) else {}),
        str(kept[0]["customer_id"]) if kept else None,
        path[1] if len(path) == 3 else None,
    )
    model = str(target.get("model") or "fixed-weight")
    return Explanation(model, _parts(target.get("parts_json")), reason_zh, reason_en)


class ReferralTargetRepository:
    """``risk_rule`` is the deployment's risk-flag rule (``RiskFlagRule.from_settings``)."""

    def __init__(self, runner: QueryRunner, *, risk_rule: RiskFlagRule | None = None) -> None:
        self.runner = runner
        self.risk_rule = risk_rule or RiskFlagRule()

    async def replace(
        self, product_id: str, scenario_id: str, rows: list[dict[str, Any]], run_id: str
    ) -> int:
        """Replace the REFERRAL_TARGET rows of one (product, scenario) in one transaction."""
        statements: list[tuple[LiteralString, dict[str, Any]]] = [
            (q.DELETE_REFERRAL_TARGETS, {"product_id": product_id, "scenario_id": scenario_id})
        ]
        if rows:
            statements.append(
                (
                    q.WRITE_REFERRAL_TARGETS,
                    {"product_id": product_id, "rows": rows, "run_id": run_id},
                )
            )
        done = await self.runner.execute_all("write referral targets", statements)
        return done[1].count() if rows else 0

    async def contactable(self) -> list[str]:
        """Customers with marketing consent who are not risk-flagged (possible introducers)."""
        page = await collected(
            self.runner,
            "read contactable customers",
            q.read_contactable(self.risk_rule),
            **self.risk_rule.parameters(),
        )
        return [str(i) for i in page["ids"]]

    async def uncontactable(self, ids: Sequence[str]) -> set[str]:
        """Those of ``ids`` who may not be contacted (no consent, or risk-flagged)."""
        page = await collected(
            self.runner,
            "read uncontactable customers",
            q.READ_UNCONTACTABLE if False else q.read_uncontactable(self.risk_rule),
            ids=list(dict.fromkeys(ids)),
            **self.risk_rule.parameters(),
        )
        return {str(i) for i in page["ids"]}

    async def eligible_targets(self, product_id: str, as_of: date) -> list[str]:
        """Who may be targeted for a product: contactable and meeting its eligibility rules."""
        page = await collected(
            self.runner,
            "read eligible targets",
            q.read_eligible_targets(self.risk_rule),
            product_id=product_id,
            as_of=as_of,
            **self.risk_rule.parameters(),
        )
        return [str(i) for i in page["ids"]]

    async def risk_flags(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """Customer -> the reasons it is risk-flagged (RISK_RATING, RISK_LINKAGE,
        NEAR_DEFAULT), for the flagged ones among ``ids``."""
        page = await collected(
            self.runner,
            "read risk flags",
            q.read_risk_flags(self.risk_rule),
            ids=list(ids),
            **self.risk_rule.parameters(),
        )
        return {str(r["id"]): [str(x) for x in r["reasons"]] for r in page["rows"]}

    async def history_base(
        self, kinds: Sequence[TieKind], *, min_strength: float
    ) -> ReferralHistoryRows:
        """The dated customers, ties and participation every product's history shares
        (holdings and eligibility empty: :meth:`history` adds a product's)."""
        customers = await collected(self.runner, "read history customers", q.READ_HISTORY_CUSTOMERS)
        ties = await collected(
            self.runner, "read history ties", q.read_history_ties(kinds), min_strength=min_strength
        )
        participation = await collected(
            self.runner, "read history participation", q.READ_HISTORY_PARTICIPATION
        )
        return ReferralHistoryRows(
            customers=[
                (str(i), _day(d), None if t is None else str(t)) for i, d, t in customers["rows"]
            ],
            ties=[(str(a), str(b), str(k), float(s), _day(d)) for a, b, k, s, d in ties["rows"]],
            participation=[(str(c), str(s), _day(d)) for c, s, d in participation["rows"]],
            holdings=[],
            eligible=[],
        )

    async def history(
        self, base: ReferralHistoryRows, product_id: str, as_of: date
    ) -> ReferralHistoryRows:
        """``base`` with the product's dated holdings and who may take it on ``as_of``."""
        holdings = await collected(
            self.runner, "read history holdings", q.READ_HISTORY_HOLDINGS, product_id=product_id
        )
        eligible = await collected(
            self.runner,
            "read product eligible",
            q.READ_PRODUCT_ELIGIBLE,
            product_id=product_id,
            as_of=as_of,
        )
        return dataclasses.replace(
            base,
            holdings=[(str(c), _day(d)) for c, d in holdings["rows"]],
            eligible=[str(i) for i in eligible["ids"]],
        )

    async def screened(
        self,
        product_id: str,
        *,
        scenario_key: str,
        scenario_id: str | None,
        limit: int,
        as_of: date | None = None,
    ) -> list[ReferralTargetRecord]:
        """Stored targets, best first, screened again now: each still consents, is not
        risk-flagged and meets the product's eligibility on ``as_of`` (default today); only
        the introducers who still consent and are not flagged, on paths whose middle person
        still may be contacted, are kept."""
        rows = await self.runner.fetch(
            "referral targets",
            q.referral_targets(self.risk_rule),
            product_id=product_id,
            scenario_key=scenario_key,
            scenario_id=scenario_id,
            limit=limit,
            as_of=as_of or clock.today(),
            **self.risk_rule.parameters(),
        )
        found = []
        for row in rows:
            target = clean(row["target"])
            stored = json.loads(target.get("introducers_json") or "[]")
            stored = stored if isinstance(stored, list) else []
            # the one rule a list version keeps introducers by, too (graph.lists)
            kept = kept_introducers(
                target, set(row["introducers_ok"]), set(row["intermediaries_barred"])
            )
            found.append(
                ReferralTargetRecord(
                    customer_id=str(row["id"]),
                    rank=int(target["rank"]),
                    score=float(target["score"]),
                    adamic_adar=_float(target.get("adamic_adar")),
                    common_neighbors=_float(target.get("common_neighbors")),
                    resource_allocation=_float(target.get("resource_allocation")),
                    adoption_rate=_float(target.get("adoption_rate")),
                    tie_strength=_float(target.get("tie_strength")),
                    introducer_influence=_float(target.get("introducer_influence")),
                    introducers=[
                        IntroducerRecord(
                            str(i["customer_id"]),
                            float(i.get("score", 0.0)),
                            int(i.get("common_neighbors", 0)),
                            [str(p) for p in i.get("path") or []],
                        )
                        for i in kept
                    ],
                    introducers_dropped=len(stored) - len(kept),
                    run_id=target.get("run_id"),
                    left_out={
                        str(x["customer_id"]): [str(f) for f in x["flags"]]
                        for x in row["left_out"] or []
                    },
                    explained=_explained(target, kept),
                )
            )
        return found
