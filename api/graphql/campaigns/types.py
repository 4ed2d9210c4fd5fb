"""Types of the campaign area (issue 12): campaigns, immutable list versions, their rows with
reasons, the suppressed customers with their reason codes, and exports with their manifest."""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from api.graphql.common.types import Customer, load_customer
from api.graphql.context import context_value
from api.graphql.permissions import guarded_field
from api.security.auth import Permission
from graph.model import ContactChannel, ContactPurpose, SuppressionReason

# the domain's enums under their GraphQL names (registered here, used by their own names)
strawberry.enum(ContactChannel, name="ContactChannel")
strawberry.enum(ContactPurpose, name="ContactPurpose")
strawberry.enum(SuppressionReason, name="SuppressionReason")


@strawberry.enum
class ExportFormat(Enum):
    CSV = "csv"
    PARQUET = "parquet"


@strawberry.input(description="A new campaign; campaigns are not edited (a new id instead)")
class CampaignInput:
    campaign_id: strawberry.ID
    name: str
    product_id: strawberry.ID
    channel: ContactChannel
    purpose: ContactPurpose
    scenario_id: strawberry.ID | None = None
    start: date | None = None
    end: date | None = None
    owner: str | None = strawberry.field(default=None, description="default: you")


@strawberry.type
class Campaign:
    campaign_id: strawberry.ID
    name: str | None
    product_id: strawberry.ID | None
    scenario_id: strawberry.ID | None
    channel: str | None
    purpose: str | None
    owner: str | None
    start: date | None
    end: date | None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Campaign:
        def ident(key: str) -> strawberry.ID | None:
            value = record.get(key)
            return None if value is None else strawberry.ID(str(value))

        return cls(
            campaign_id=strawberry.ID(str(record["campaign_id"])),
            name=record.get("name"),
            product_id=ident("product_id"),
            scenario_id=ident("scenario_id"),
            channel=record.get("channel"),
            purpose=record.get("purpose"),
            owner=record.get("owner"),
            start=record.get("start"),
            end=record.get("end"),
        )


@strawberry.type(description="How many suppressed customers carry one reason code")
class ReasonCount:
    code: SuppressionReason
    customers: int


def reason_counts(counts: dict[str, int]) -> list[ReasonCount]:
    return [ReasonCount(code=SuppressionReason(k), customers=v) for k, v in counts.items()]


@strawberry.type(description="The parts of a row's score, as the referral_targets run stored")
class ScoreParts:
    adamic_adar: float | None
    common_neighbors: float | None
    resource_allocation: float | None
    adoption_rate: float | None
    tie_strength: float | None
    introducer_influence: float | None


@strawberry.type(description="A customer on a list version, with why they are on it")
class ListRow:
    position: int
    customer_id: strawberry.ID
    treatment: str = strawberry.field(
        description="T: treated; C: the hold-out's control (never contacted)"
    )
    rank: int = strawberry.field(description="the referral_targets rank the row was drawn at")
    score: float | None
    parts: ScoreParts
    community: str | None = strawberry.field(description="the Louvain community id")
    introducer_id: strawberry.ID | None
    path_ids: list[strawberry.ID] = strawberry.field(description="target … introducer")
    cluster: str | None = strawberry.field(
        description="the hold-out's randomisation unit: the community, or community/sub… when "
        "it held more than 1% of the list (null: no hold-out)"
    )
    cross_arm: bool | None = strawberry.field(
        description="more than half of its ties to the list lead into the other arm"
    )
    cross_arm_share: float | None = strawberry.field(
        description="the share of its ties to the list's customers that are in the other arm"
    )

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ListRow:
        reasons = row["reasons"]
        return cls(
            position=int(row["position"]),
            customer_id=strawberry.ID(str(row["customer_id"])),
            treatment=str(row["treatment"]),
            rank=int(reasons["rank"]),
            score=reasons.get("score"),
            parts=ScoreParts(**reasons.get("parts", {})),
            community=reasons.get("community"),
            introducer_id=None
            if reasons.get("introducer_id") is None
            else strawberry.ID(str(reasons["introducer_id"])),
            path_ids=[strawberry.ID(str(p)) for p in reasons.get("path") or []],
            cluster=row.get("cluster"),
            cross_arm=row.get("cross_arm"),
            cross_arm_share=row.get("cross_arm_share"),
        )

    @strawberry.field
    async def customer(self, info: strawberry.Info) -> Customer | None:
        return await load_customer(info, str(self.customer_id))


@strawberry.type(description="A candidate kept off a list version, with every code that applied")
class SuppressedCustomer:
    position: int = strawberry.field(description="the candidate's place among those read")
    customer_id: strawberry.ID
    codes: list[SuppressionReason]
    flags: strawberry.Private[list[str]]

    @guarded_field(
        Permission.READ_RISK,
        "The risk flags behind RISK_FLAGGED (RISK_RATING, RISK_LINKAGE, NEAR_DEFAULT): the "
        "guardrail's reasons, for roles that read risk",
    )
    def risk_flags(self) -> list[str] | None:
        return self.flags


@strawberry.type(description="An immutable list drawn for a campaign")
class ListVersion:
    list_version_id: strawberry.ID
    campaign_id: strawberry.ID
    version: int
    content_hash: str = strawberry.field(description="sha256 of the version's canonical content")
    rule: str
    parameters: JSON
    seed: int
    as_of: date
    algorithm_run_ids: list[str] = strawberry.field(description="the runs it was drawn from")
    load_run_ids: list[str] = strawberry.field(description="the loads whose data it read")
    row_count: int
    suppressed_count: int
    suppressed_by_reason: list[ReasonCount]
    drawn_by: str
    drawn_at: datetime
    approved_by: str | None = strawberry.field(description="the second person (maker-checker)")
    approved_at: datetime | None
    holdout_share: float = strawberry.field(description="planned control share (0: none)")
    treated_count: int = strawberry.field(description="rows in arm T")
    control_count: int = strawberry.field(description="rows in arm C (the hold-out)")
    srm_p_value: float | None = strawberry.field(
        description="sample-ratio mismatch: binomial test of the arms against the plan"
    )
    srm_warning: bool = strawberry.field(description="SRM p-value below 0.001")

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ListVersion:
        return cls(
            list_version_id=strawberry.ID(str(record["list_version_id"])),
            campaign_id=strawberry.ID(str(record["campaign_id"])),
            version=int(record["version"]),
            content_hash=str(record["content_hash"]),
            rule=str(record["rule"]),
            parameters=cast(JSON, json.loads(record["parameters_json"])),
            seed=int(record["seed"]),
            as_of=record["as_of"],
            algorithm_run_ids=list(record.get("algorithm_run_ids") or []),
            load_run_ids=list(record.get("load_run_ids") or []),
            row_count=int(record["row_count"]),
            suppressed_count=int(record["suppressed_count"]),
            suppressed_by_reason=reason_counts(json.loads(record["suppression_counts_json"])),
            drawn_by=str(record["drawn_by"]),
            drawn_at=record["drawn_at"],
            approved_by=record.get("approved_by"),
            approved_at=record.get("approved_at"),
            holdout_share=float(record.get("holdout_share") or 0.0),
            treated_count=int(record.get("treated_count", record["row_count"])),
            control_count=int(record.get("control_count") or 0),
            srm_p_value=record.get("srm_p_value"),
            srm_warning=bool(record.get("srm_warning")),
        )

    @strawberry.field(description="The rows in list order (an RM: the customers of their book)")
    async def rows(self, info: strawberry.Info, first: int | None = 50) -> list[ListRow]:
        context = context_value(info)
        found = await context.repositories.campaigns.rows(
            str(self.list_version_id), limit=context.page_size(first), rm_id=own_book(info)
        )
        return [ListRow.from_row(r) for r in found]

    @strawberry.field(
        description="The suppressed candidates with their reason codes (why is X not on the "
        "list: give customerId); an RM: the customers of their book"
    )
    async def suppressions(
        self,
        info: strawberry.Info,
        first: int | None = 50,
        customer_id: strawberry.ID | None = None,
    ) -> list[SuppressedCustomer]:
        context = context_value(info)
        found = await context.repositories.campaigns.suppressions(
            str(self.list_version_id),
            limit=context.page_size(first),
            customer_id=None if customer_id is None else str(customer_id),
            rm_id=own_book(info),
        )
        return [
            SuppressedCustomer(
                position=s["position"],
                customer_id=strawberry.ID(str(s["customer_id"])),
                codes=[SuppressionReason(c) for c in s["codes"]],
                flags=list(s["risk_flags"]),
            )
            for s in found
        ]


def own_book(info: strawberry.Info) -> str | None:
    """The RM whose book bounds what the caller reads of a list (None: every row). Those who
    draw lists and those who read risk see all rows; anyone else (an RM) their own book."""
    principal = context_value(info).principal
    if principal.can(Permission.MANAGE_CAMPAIGNS) or principal.can(Permission.READ_RISK):
        return None
    return principal.rm_id or ""  # no book: no rows


@strawberry.type(description="A draw's answer: the version, and whether this draw created it")
class DrawResult:
    version: ListVersion
    created: bool = strawberry.field(
        description="false: the same inputs had given this version already (same hash)"
    )


@strawberry.type(description="A delivered file: the same version gives the same bytes")
class ListExport:
    file_name: str
    format: ExportFormat
    content_base64: str
    sha256: str
    rows: int
    contact_details: bool
    manifest: JSON = strawberry.field(
        description="list version, hash, counts by reason, fields, file sha256"
    )
