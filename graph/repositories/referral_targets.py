"""REFERRAL_TARGET relationships: replaced per (product, scenario) by a referral run, screened
again whenever they are read; and the screens a run picks targets and introducers with."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any, LiteralString

from graph import clock
from graph.lists import kept_introducers
from graph.queries import referral_targets as q
from graph.queries.screens import RiskFlagRule
from graph.read_models import IntroducerRecord, ReferralTargetRecord
from graph.repositories.customers import clean, collected
from graph.store import QueryRunner


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


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
                )
            )
        return found
