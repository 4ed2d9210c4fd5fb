"""The measured effect of a list version (issue 12, stage 2): conversions per arm from the
loaded outcomes, the difference treated − control with its 95% cluster-robust interval and
the method that gave it, CUPED when every row carries a pre-period metric, per segment."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from api.graphql.context import context_value
from api.graphql.permissions import guarded_field
from api.security.auth import Permission


@strawberry.enum(description="A customer property an effect is broken down by")
class EffectSegment(Enum):
    KIND = "kind"
    TIER = "tier"
    LIFECYCLE_STAGE = "lifecycle_stage"
    BRANCH_ID = "branch_id"


@strawberry.type(description="One arm of a list version: its rows and their recorded outcomes")
class EffectArm:
    treatment: str
    rows: int
    without_outcome: int = strawberry.field(description="rows no outcome was loaded for")
    reached: int
    declined: int
    converted: int
    not_converted: int

    @classmethod
    def from_record(cls, treatment: str, record: dict[str, Any]) -> EffectArm:
        return cls(
            treatment=treatment,
            rows=record["rows"],
            without_outcome=record["without_outcome"],
            reached=record["reached"],
            declined=record["declined"],
            converted=record["converted"],
            not_converted=record["not_converted"],
        )


@strawberry.type(description="Treated − control conversion with its cluster-robust interval")
class EffectEstimate:
    method: str
    difference: float
    std_error: float
    low: float = strawberry.field(description="the interval's lower end")
    high: float
    level: float
    p_value: float
    degrees_of_freedom: int
    treated_rate: float
    control_rate: float
    treated_clusters: int
    control_clusters: int
    theta: float | None = strawberry.field(description="CUPED's cov(y, x) / var(x)")
    variance_reduction: float | None = strawberry.field(
        description="CUPED: 1 − its variance / the plain estimate's"
    )

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> EffectEstimate | None:
        if record is None or "error" in record:
            return None
        return cls(
            method=record["method"],
            difference=record["difference"],
            std_error=record["std_error"],
            low=record["low"],
            high=record["high"],
            level=record["level"],
            p_value=record["p_value"],
            degrees_of_freedom=record["degrees_of_freedom"],
            treated_rate=record["treated"]["rate"],
            control_rate=record["control"]["rate"],
            treated_clusters=record["treated"]["clusters"],
            control_clusters=record["control"]["clusters"],
            theta=record["theta"],
            variance_reduction=record["variance_reduction"],
        )


@strawberry.type
class SegmentEffect:
    segment: str
    estimate: EffectEstimate | None
    cuped: bool = strawberry.field(description="whether the estimate is CUPED-adjusted")
    error: str | None = strawberry.field(description="why the segment has no estimate")


@strawberry.type(description="Who is credited with one conversion, by the attribution rule")
class ConversionCredit:
    customer_id: strawberry.ID
    treatment: str
    day: str
    credited: strawberry.ID | None = strawberry.field(description="one introducer, one hop")
    reason: str | None = strawberry.field(description="why nobody is credited")
    rejected: list[str] = strawberry.field(
        description="referrals never credited: 'referrer on day: SELF_REFERRAL or CYCLE'"
    )
    chain: list[strawberry.ID] = strawberry.field(
        description="who referred the credited introducer, and so on (kept, not rewarded)"
    )

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ConversionCredit:
        credited = record["credited"]
        return cls(
            customer_id=strawberry.ID(record["customer_id"]),
            treatment=record["treatment"],
            day=record["day"],
            credited=None if credited is None else strawberry.ID(credited),
            reason=record["reason"],
            rejected=[
                f"{r['referrer_id']} on {r['referred_at']}: {r['reason']}"
                for r in record["rejected"]
            ],
            chain=[strawberry.ID(c) for c in record["chain"]],
        )


@strawberry.type(description="What a list version's treatment did to conversion")
class ListVersionEffect:
    list_version_id: strawberry.ID
    outcome: str = strawberry.field(description="the outcome counted as a conversion")
    treated: EffectArm
    control: EffectArm
    estimate: EffectEstimate | None
    cuped: EffectEstimate | None
    cuped_note: str | None = strawberry.field(description="why there is no CUPED estimate")
    segment_by: EffectSegment | None
    segments: list[SegmentEffect]
    error: str | None = strawberry.field(description="why there is no estimate")
    attribution_rule: str
    all_credits: strawberry.Private[list[ConversionCredit]]

    @strawberry.field(description="Each conversion's credited introducer (or why none)")
    def credits(self, info: strawberry.Info, first: int | None = 50) -> list[ConversionCredit]:
        return self.all_credits[: context_value(info).page_size(first)]

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ListVersionEffect:
        arms = record["arms"]
        return cls(
            list_version_id=strawberry.ID(record["list_version_id"]),
            outcome=record["outcome"],
            treated=EffectArm.from_record("T", arms["T"]),
            control=EffectArm.from_record("C", arms["C"]),
            estimate=EffectEstimate.from_record(record["estimate"]),
            cuped=EffectEstimate.from_record(record["cuped"]),
            cuped_note=record["cuped_note"],
            segment_by=None
            if record["segment_by"] is None
            else EffectSegment(record["segment_by"]),
            segments=[
                SegmentEffect(
                    segment=s["segment"],
                    estimate=EffectEstimate.from_record(s),
                    cuped=s.get("theta") is not None,
                    error=s.get("error"),
                )
                for s in record["segments"]
            ],
            error=record["error"],
            attribution_rule=record["attribution"]["rule"],
            all_credits=[
                ConversionCredit.from_record(c) for c in record["attribution"]["conversions"]
            ],
        )


@guarded_field(
    Permission.READ_EFFECTS,
    "The measured effect of a list version on conversion (outcomes loaded through the "
    "`outcomes` contract file), per arm, with a 95% interval right under the community "
    "assignment; CUPED with the pre-period metric; per segment when segmentBy is given",
)
async def list_version_effect(
    info: strawberry.Info, id: strawberry.ID, segment_by: EffectSegment | None = None
) -> ListVersionEffect | None:
    record = await context_value(info).repositories.effects.effect(
        str(id), segment=None if segment_by is None else segment_by.value
    )
    return ListVersionEffect.from_record(record)
