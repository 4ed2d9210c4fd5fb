"""Campaigns and their immutable list versions: draw (suppression at draw time), read rows
and suppressions, approve (maker-checker) and export (suppression again, contact details
only after approval, every such export audited)."""

from __future__ import annotations

import json
import re
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, LiteralString

from graph.errors import NotFoundError, QueryFailedError
from graph.holdout import CONTROL, HoldoutPlan, oversized
from graph.list_export import ExportFormat, export_rows, manifest, render
from graph.lists import (
    RULE_REFERRAL_TARGETS,
    DrawnList,
    DrawParameters,
    ListPolicy,
    ListRuleError,
    SuppressionFacts,
    count_codes,
    draw,
    same_person,
    suppression_codes,
    with_holdout,
)
from graph.model import AuditEvent, ContactChannel, ContactPurpose, NodeLabel
from graph.queries import campaigns as q
from graph.queries.screens import RiskFlagRule
from graph.repositories.audit import AuditRepository
from graph.repositories.customers import collected
from graph.results import COMMUNITY_PREFIX
from graph.store import QueryRunner, to_native

MAX_CANDIDATES = 20_000
# a campaign id names list versions and export files: nothing that could name a path
CAMPAIGN_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
CAMPAIGN_FIELDS = ("name", "product_id", "scenario_id", "channel", "purpose", "start", "end")


@dataclass(frozen=True)
class CampaignInput:
    campaign_id: str
    name: str
    product_id: str
    channel: str
    purpose: str
    owner: str
    scenario_id: str | None = None
    start: date | None = None
    end: date | None = None

    def checked(self) -> CampaignInput:
        if not self.campaign_id.strip() or not self.name.strip() or not self.owner.strip():
            raise ListRuleError("a campaign needs a campaign_id, a name and an owner")
        if not CAMPAIGN_ID.fullmatch(self.campaign_id):
            raise ListRuleError(
                f"campaign_id {self.campaign_id[:80]!r} is refused: 1-64 of A-Z a-z 0-9 _ . -, "
                "starting with a letter or digit"
            )
        if self.channel not in ContactChannel.__members__:
            raise ListRuleError(f"unknown channel {self.channel!r}: one of {list(ContactChannel)}")
        if self.purpose not in ContactPurpose.__members__:
            raise ListRuleError(f"unknown purpose {self.purpose!r}: one of {list(ContactPurpose)}")
        if self.start and self.end and self.start > self.end:
            raise ListRuleError(f"campaign {self.campaign_id}: start {self.start} after end")
        return self

    def properties(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "product_id": self.product_id,
            "scenario_id": self.scenario_id,
            "channel": self.channel,
            "purpose": self.purpose,
            "owner": self.owner,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class ListExport:
    content: bytes
    manifest: dict[str, Any]
    file_name: str


def _native(row: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: to_native(v) for k, v in (row or {}).items() if not k.startswith("crkg_")}


def _row(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "customer_id": entry["customer_id"],
        "position": int(entry["position"]),
        "treatment": entry["treatment"],
        "reasons": json.loads(entry["reasons_json"]),
        "cluster": entry.get("cluster"),
        "cross_arm": entry.get("cross_arm"),
        "cross_arm_share": entry.get("cross_arm_share"),
    }


class CampaignRepository:
    """``risk_rule`` is the deployment's risk-flag rule (``RiskFlagRule.from_settings``)."""

    def __init__(
        self,
        runner: QueryRunner,
        *,
        risk_rule: RiskFlagRule | None = None,
        policy: ListPolicy | None = None,
    ) -> None:
        self.runner = runner
        self.risk_rule = risk_rule or RiskFlagRule()
        self.policy = policy or ListPolicy()

    # --- campaigns -----------------------------------------------------------------------
    async def create(self, campaign: CampaignInput, *, created_by: str) -> dict[str, Any]:
        """Create a campaign; the same campaign again returns it (another one is an error)."""
        campaign = campaign.checked()
        refs = await self.runner.fetch_one(
            "check campaign references",
            q.CAMPAIGN_REFERENCES,
            product_id=campaign.product_id,
            scenario_id=campaign.scenario_id,
        )
        if refs is None or not refs["product"]:
            raise NotFoundError(NodeLabel.PRODUCT.value, campaign.product_id)
        if not refs["scenario"]:
            raise NotFoundError(NodeLabel.SCENARIO.value, str(campaign.scenario_id))
        props = {k: v for k, v in campaign.properties().items() if v is not None}
        props |= {"created_by": created_by, "created_at": datetime.now(UTC)}
        created = await self.runner.execute(
            "create campaign", q.CREATE_CAMPAIGN, campaign_id=campaign.campaign_id, props=props
        )
        if created.records:
            return _native(created.records[0]["campaign"])
        existing = await self.get(campaign.campaign_id)
        wanted = campaign.properties()
        differs = [k for k in (*CAMPAIGN_FIELDS, "owner") if existing.get(k) != wanted[k]]
        if differs:
            raise ListRuleError(
                f"campaign {campaign.campaign_id!r} exists with other {', '.join(differs)}",
                hint="campaigns are not edited: create one with a new campaign_id",
            )
        return existing

    async def get(self, campaign_id: str) -> dict[str, Any]:
        row = await self.runner.fetch_one("read campaign", q.READ_CAMPAIGN, campaign_id=campaign_id)
        if row is None:
            raise NotFoundError(NodeLabel.CAMPAIGN.value, campaign_id)
        return _native(row["campaign"])

    async def campaigns(self, limit: int) -> list[dict[str, Any]]:
        page = await collected(self.runner, "list campaigns", q.LIST_CAMPAIGNS, limit=limit)
        return [_native(c) for c in page["campaigns"]]

    # --- drawing -------------------------------------------------------------------------
    def _fact_params(self, campaign: dict[str, Any], parameters: DrawParameters) -> dict[str, Any]:
        return {
            "purpose": campaign["purpose"],
            "channel": campaign["channel"],
            "as_of": parameters.as_of,
            "cap_since": parameters.cap_since,
            "complaint_since": parameters.complaint_since,
            "max_contacts": parameters.max_contacts,
            **self.risk_rule.parameters(),
        }

    async def draw(
        self,
        campaign_id: str,
        parameters: DrawParameters,
        *,
        drawn_by: str,
        _retried: bool = False,
    ) -> tuple[dict[str, Any], bool]:
        """Draw a list version; the same inputs return the existing version (``False``)."""
        self.policy.check(parameters)
        campaign = await self.get(campaign_id)
        missing = [k for k in ("product_id", "channel", "purpose") if not campaign.get(k)]
        if missing:
            raise ListRuleError(
                f"campaign {campaign_id!r} has no {', '.join(missing)}: a list needs them",
                hint="create the campaign with createCampaign / `crkg campaign create`",
            )
        candidates = await self.runner.fetch(
            "read list candidates",
            q.read_candidates(self.risk_rule),
            product_id=campaign["product_id"],
            scenario_key=campaign.get("scenario_id") or "*",
            max_candidates=MAX_CANDIDATES,
            **self._fact_params(campaign, parameters),
        )
        if not candidates:
            raise ListRuleError(
                f"no stored referral targets for product {campaign['product_id']} "
                f"(scenario {campaign.get('scenario_id') or 'bank-wide'})",
                hint="run `crkg algo run referral_targets` for it first",
            )
        drawn = draw(campaign, parameters, [dict(c) for c in candidates])
        holdout: dict[str, Any] = {}
        if parameters.holdout_share > 0:
            drawn, holdout = await self._hold_out(drawn, parameters)
        found = await self.runner.fetch_one(
            "read list version by hash",
            q.READ_VERSION_BY_HASH,
            campaign_id=campaign_id,
            content_hash=drawn.content_hash,
        )
        if found is not None:
            return _native(found["version"]), False
        number = await collected(
            self.runner, "next list version", q.NEXT_VERSION, campaign_id=campaign_id
        )
        version_id = f"{campaign_id}:v{int(number['next'])}"
        props = {
            "list_version_id": version_id,
            "campaign_id": campaign_id,
            "version": int(number["next"]),
            "content_hash": drawn.content_hash,
            "rule": RULE_REFERRAL_TARGETS,
            "parameters_json": json.dumps(parameters.to_json(), sort_keys=True),
            "seed": parameters.seed,
            "as_of": parameters.as_of,
            "algorithm_run_ids": drawn.algorithm_run_ids,
            "load_run_ids": drawn.load_run_ids,
            "row_count": len(drawn.rows),
            "suppressed_count": len(drawn.suppressions),
            "suppression_counts_json": json.dumps(count_codes(drawn.suppressions)),
            "drawn_by": drawn_by,
            "drawn_at": datetime.now(UTC),
            **holdout,
        }
        rows = [
            {
                "customer_id": r["customer_id"],
                "position": r["position"],
                "treatment": r["treatment"],
                "reasons_json": json.dumps(r["reasons"], sort_keys=True, ensure_ascii=False),
                **{k: r.get(k) for k in ("cluster", "cross_arm", "cross_arm_share")},
            }
            for r in drawn.rows
        ]
        statements: list[tuple[LiteralString, dict[str, Any]]] = [
            (q.CREATE_LIST_VERSION, {"campaign_id": campaign_id, "props": props}),
            (q.WRITE_LIST_ROWS, {"list_version_id": version_id, "rows": rows}),
            (q.WRITE_SUPPRESSIONS, {"list_version_id": version_id, "rows": drawn.suppressions}),
        ]
        try:
            await self.runner.execute_all("write list version", statements)
        except QueryFailedError as error:
            if "ConstraintValidationFailed" not in (error.code or "") or _retried:
                raise
            # another draw of this campaign took the same version number at the same time:
            # once more (it may even have drawn these very inputs), then a clear refusal
            try:
                return await self.draw(campaign_id, parameters, drawn_by=drawn_by, _retried=True)
            except QueryFailedError as again:
                raise ListRuleError(
                    f"another draw of campaign {campaign_id!r} took {version_id} at the same time",
                    hint="draw again",
                ) from again
        return await self.version(version_id), True

    async def _hold_out(
        self, drawn: DrawnList, parameters: DrawParameters
    ) -> tuple[DrawnList, dict[str, Any]]:
        """The drawn rows assigned to T / C by community (graph.holdout), and the version's
        hold-out properties."""
        prop = f"{COMMUNITY_PREFIX}{parameters.holdout_community}"
        ids = [r["customer_id"] for r in drawn.rows]
        named: dict[str, str | None] | None = None
        run_ids: tuple[str, ...] = ()
        if parameters.holdout_community != "louvain":  # the rows' reasons hold Louvain's
            page = await collected(
                self.runner, "read hold-out communities", q.holdout_communities(prop), ids=ids
            )
            named = {str(i): k for i, k, _ in page["rows"]}
            run_ids = tuple(sorted({str(run) for _, _, run in page["rows"] if run}))
        ties = await self.runner.fetch_one(
            "read hold-out ties",
            q.holdout_ties(prop),
            communities=oversized(drawn.rows, HoldoutPlan(parameters.holdout_share), named),
            ids=ids,
        )
        inside: dict[str, list[tuple[str, str, float]]] = {}
        for k, a, b, w in (ties or {}).get("inside") or []:
            inside.setdefault(str(k), []).append((str(a), str(b), float(w)))
        between = [(str(a), str(b)) for a, b in (ties or {}).get("between") or []]
        drawn, done = with_holdout(
            drawn,
            parameters,
            community_edges=inside,
            list_edges=between,
            named=named,
            named_run_ids=run_ids,
        )
        return drawn, {
            "holdout_share": parameters.holdout_share,
            "treated_count": done.arms["T"],
            "control_count": done.arms["C"],
            "srm_p_value": done.srm_p_value,
            "srm_warning": done.srm_warning,
        }

    # --- reading -------------------------------------------------------------------------
    async def version(self, list_version_id: str) -> dict[str, Any]:
        row = await self.runner.fetch_one(
            "read list version", q.READ_LIST_VERSION, list_version_id=list_version_id
        )
        if row is None:
            raise NotFoundError(NodeLabel.LIST_VERSION.value, list_version_id)
        return _native(row["version"])

    async def versions(self, campaign_id: str) -> list[dict[str, Any]]:
        page = await collected(
            self.runner, "list versions", q.LIST_VERSIONS, campaign_id=campaign_id
        )
        return [_native(v) for v in page["versions"]]

    async def rows(
        self, list_version_id: str, *, limit: int, rm_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The rows in list order (an RM's: only the customers they manage)."""
        page = await collected(
            self.runner,
            "read list rows",
            q.READ_LIST_ROWS,
            list_version_id=list_version_id,
            rm_id=rm_id,
            limit=limit,
        )
        return [_row(r) for r in page["rows"]]

    async def suppressions(
        self,
        list_version_id: str,
        *,
        limit: int,
        customer_id: str | None = None,
        rm_id: str | None = None,
    ) -> list[dict[str, Any]]:
        page = await collected(
            self.runner,
            "read list suppressions",
            q.READ_SUPPRESSIONS,
            list_version_id=list_version_id,
            customer_id=customer_id,
            rm_id=rm_id,
            limit=limit,
        )
        return [
            {
                "customer_id": s["customer_id"],
                "position": int(s["position"]),
                "codes": list(s["codes"]),
                "risk_flags": list(s["risk_flags"] or []),
            }
            for s in page["rows"]
        ]

    # --- approving and exporting ---------------------------------------------------------
    async def approve(self, list_version_id: str, *, subject: str) -> dict[str, Any]:
        """Maker-checker: a second person (another subject than the drawer) approves."""
        version = await self.version(list_version_id)
        if version.get("approved_by"):
            return version
        if same_person(version["drawn_by"], subject):
            raise ListRuleError(
                f"{subject!r} drew list version {list_version_id}: a second person approves it"
            )
        await self.runner.execute(
            "approve list version",
            q.APPROVE_LIST_VERSION,
            list_version_id=list_version_id,
            subject=subject,
            at=datetime.now(UTC),
        )
        return await self.version(list_version_id)

    async def export(
        self,
        list_version_id: str,
        export_format: ExportFormat,
        *,
        contact_details: bool,
        subject: str,
        role: str,
        as_of: date,
        purpose: str | None = None,
        document_sha256: str | None = None,
    ) -> ListExport:
        """The version's rows screened again on ``as_of`` (newly suppressed customers are left
        out and counted), as a file with its manifest; contact details only once approved,
        and every such export leaves one AuditEvent per customer."""
        version = await self.version(list_version_id)
        if contact_details and not version.get("approved_by"):
            raise ListRuleError(
                f"list version {list_version_id} is not approved: contact details are exported "
                "only after a second person approved it",
                hint="approveListVersion / `crkg campaign approve` by another person first",
            )
        campaign = await self.get(version["campaign_id"])
        rows = await self.rows(list_version_id, limit=MAX_CANDIDATES)
        screen = self.policy.screen(json.loads(version["parameters_json"]), as_of=as_of)
        facts = await self.runner.fetch(
            "read export facts",
            q.read_export_facts(self.risk_rule),
            product_id=campaign["product_id"],
            rows=[
                {
                    "customer_id": r["customer_id"],
                    "people": sorted(
                        {*r["reasons"]["path"][1:], r["reasons"]["introducer_id"]} - {None}
                    ),
                }
                for r in rows
            ],
            **self._fact_params(campaign, screen),
        )
        codes_by_id = {
            str(f["id"]): suppression_codes(
                SuppressionFacts.from_row(dict(f)),
                max_contacts=screen.max_contacts,
                introducer_left=bool(f["introducer_ok"]),
            )
            for f in facts
        }
        # one pass: a row stays when today's screen finds no code for it (a customer gone
        # from the graph has no facts: removed, without a code)
        kept, removed = [], []
        for r in rows:
            codes = codes_by_id.get(r["customer_id"], ["GONE"])
            if codes:
                removed.append({"codes": codes_by_id.get(r["customer_id"]) or []})
            else:
                kept.append(r)
        withheld = 0
        if contact_details:  # control rows are held out: never handed to a channel for contact
            withheld = sum(1 for r in kept if r["treatment"] == CONTROL)
            kept = [r for r in kept if r["treatment"] != CONTROL]
        contacts = None
        if contact_details:
            page = await collected(
                self.runner,
                "read contact details",
                q.READ_CONTACT_DETAILS,
                ids=[r["customer_id"] for r in kept],
            )
            contacts = {str(p["customer_id"]): dict(p) for p in page["rows"]}
            await AuditRepository(self.runner).record(
                [
                    AuditEvent(
                        audit_id=f"audit-{secrets.token_hex(8)}",
                        subject=subject,
                        role=role,
                        customer_id=r["customer_id"],
                        fields=["email", "name", "phone"],
                        operation=f"export list version {list_version_id}",
                        document_sha256=document_sha256,  # what ran (API)
                        purpose=purpose,  # the caller's declared why (X-Crkg-Purpose)
                        at=datetime.now(UTC),
                    )
                    for r in kept
                ]
            )
        table = export_rows(list_version_id, kept, contacts)
        content = render(table, export_format, contact=contact_details)
        described = manifest(
            version,
            export_format=export_format,
            contact=contact_details,
            content=content,
            row_count=len(kept),
            suppressed_at_draw=json.loads(version["suppression_counts_json"]),
            suppressed_at_export=count_codes(removed),
            removed_at_export=len(removed),
            treatment_codes=dict(sorted(Counter(r["treatment"] for r in kept).items())),
            control_withheld=withheld,
        )
        name = list_version_id.replace(":", "-")
        suffix = "-contacts" if contact_details else ""
        return ListExport(content, described, f"{name}{suffix}.{export_format}")
