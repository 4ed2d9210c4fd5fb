"""Types of marketing: referral targets, why each was chosen, and who should introduce them."""

from __future__ import annotations

from datetime import date

import strawberry

from api.graphql.common.coverage import RunCoverage
from api.graphql.common.numbers import significant
from api.graphql.common.types import Customer, load_customer
from api.graphql.permissions import guarded_field
from api.security.auth import Permission
from graph.read_models import ReferralTargetRecord


def _shown(value: float | None) -> float | None:
    return None if value is None else significant(value)


@strawberry.type(description="The signals a target's score is made of, to 6 significant digits")
class ReferralReasons:
    adamic_adar: float | None
    common_neighbors: int | None = strawberry.field(
        description="common neighbours with the product's holders, summed over the holders"
    )
    resource_allocation: float | None
    adoption_rate: float | None = strawberry.field(description="share of their ties holding it")
    tie_strength: float | None = strawberry.field(description="strongest tie to a holder")
    introducer_influence: float | None


@strawberry.type(
    description="One part of a target's score: a feature, its value and how much it moved the "
    "score (learned: the score minus the score with this feature at its median over the "
    "run's candidates; fixed-weight: the term's weight times its signal, the terms add up)"
)
class ReferralPart:
    feature: str
    value: float
    contribution: float


@strawberry.type(description="Someone a referral read left out, and the risk flags why")
class LeftOut:
    customer_id: strawberry.ID
    risk_flags: list[str] = strawberry.field(description="empty: no marketing consent")


@strawberry.type
class Introducer:
    score: float
    common_neighbors: int
    customer_id: strawberry.ID
    path_ids: list[strawberry.ID] = strawberry.field(description="target … introducer")

    @strawberry.field
    async def customer(self, info: strawberry.Info) -> Customer | None:
        return await load_customer(info, str(self.customer_id))


@strawberry.type(
    description="What a referralTargets answer covers: the run that scored it and where the "
    "run cut the list (the same for every row of one answer)"
)
class ReferralCoverage:
    run_id: str = strawberry.field(description="the referral_targets run the rows come from")
    product_id: strawberry.ID
    scenario_id: strawberry.ID | None = strawberry.field(
        description="the scenario the run scored (its participants only); null: bank-wide"
    )
    top_n: int | None = strawberry.field(
        description="targets the run kept for the product: no answer holds more, whatever "
        "`first` asks"
    )
    first: int = strawberry.field(description="rows asked for")
    cut_by_run: bool = strawberry.field(
        description="`first` asked for more rows than the run kept (`topN`)"
    )
    eligibility_as_of: date = strawberry.field(
        description="the day consent, risk flags and the product's eligibility rules (ages "
        "included) were checked: the rows are screened again when read, today"
    )
    run_eligibility_as_of: date | None = strawberry.field(
        description="the day the run judged eligibility when it picked the targets"
    )
    note: str | None = strawberry.field(description="what the answer leaves out, in words")
    run: RunCoverage = strawberry.field(
        description="the referral_targets run the rows come from: its id, parameters, bounds "
        "and finish time, as every stored answer names them"
    )


@strawberry.type
class ReferralTarget:
    rank: int
    score: float
    reasons: ReferralReasons
    introducers: list[Introducer]
    introducers_dropped: int = strawberry.field(
        description="introducers the run chose who were left out when read: they, or the "
        "person in the middle of their path, may no longer be contacted"
    )
    run_id: str | None
    model: str | None = strawberry.field(
        description="what scored it: e.g. `boosted referral-model/1` (learned on the graph's "
        "history; the run's summary holds its record) or `fixed-weight`"
    )
    parts: list[ReferralPart] = strawberry.field(
        description="the score's parts, largest contribution first"
    )
    reason_zh: str | None = strawberry.field(
        description="why, in Chinese, naming only an introducer this read kept"
    )
    reason_en: str | None = strawberry.field(description="why, in English")
    customer: Customer
    coverage: ReferralCoverage
    left_out: strawberry.Private[dict[str, list[str]]]

    @guarded_field(
        Permission.READ_RISK,
        "Introducers and path members the read left out, with the risk flags that bar them "
        "(empty: no marketing consent): the guardrail's reasons, for roles that read risk",
    )
    def left_out_introducers(self) -> list[LeftOut] | None:
        return [
            LeftOut(customer_id=strawberry.ID(c), risk_flags=flags)
            for c, flags in self.left_out.items()
        ]

    @classmethod
    def from_record(
        cls, record: ReferralTargetRecord, customer: Customer, coverage: ReferralCoverage
    ) -> ReferralTarget:
        explained = record.explained
        return cls(
            rank=record.rank,
            score=significant(record.score),
            reasons=ReferralReasons(
                adamic_adar=_shown(record.adamic_adar),
                common_neighbors=None
                if record.common_neighbors is None
                else round(record.common_neighbors),
                resource_allocation=_shown(record.resource_allocation),
                adoption_rate=_shown(record.adoption_rate),
                tie_strength=_shown(record.tie_strength),
                introducer_influence=_shown(record.introducer_influence),
            ),
            introducers=[
                Introducer(
                    score=significant(i.score),
                    common_neighbors=i.common_neighbors,
                    customer_id=strawberry.ID(i.customer_id),
                    path_ids=[strawberry.ID(p) for p in i.path],
                )
                for i in record.introducers
            ],
            introducers_dropped=record.introducers_dropped,
            run_id=record.run_id,
            model=None if explained is None else explained.model,
            parts=[]
            if explained is None
            else [
                ReferralPart(
                    feature=str(p.get("feature")),
                    value=significant(float(p.get("value") or 0.0)),
                    contribution=significant(float(p.get("contribution") or 0.0)),
                )
                for p in explained.parts
            ],
            reason_zh=None if explained is None else explained.reason_zh,
            reason_en=None if explained is None else explained.reason_en,
            customer=customer,
            coverage=coverage,
            left_out=record.left_out,
        )
