"""Types of marketing: referral targets, why each was chosen, and who should introduce them."""

from __future__ import annotations

import strawberry

from api.graphql.common.types import Customer, load_customer
from graph.read_models import ReferralTargetRecord


@strawberry.type
class ReferralReasons:
    adamic_adar: float | None
    common_neighbors: float | None
    resource_allocation: float | None
    adoption_rate: float | None = strawberry.field(description="share of their ties holding it")
    tie_strength: float | None = strawberry.field(description="strongest tie to a holder")
    introducer_influence: float | None


@strawberry.type
class Introducer:
    score: float
    common_neighbors: int
    customer_id: strawberry.ID
    path_ids: list[strawberry.ID] = strawberry.field(description="target … introducer")

    @strawberry.field
    async def customer(self, info: strawberry.Info) -> Customer | None:
        return await load_customer(info, str(self.customer_id))


@strawberry.type
class ReferralTarget:
    rank: int
    score: float
    reasons: ReferralReasons
    introducers: list[Introducer]
    run_id: str | None
    customer: Customer

    @classmethod
    def from_record(cls, record: ReferralTargetRecord, customer: Customer) -> ReferralTarget:
        return cls(
            rank=record.rank,
            score=record.score,
            reasons=ReferralReasons(
                adamic_adar=record.adamic_adar,
                common_neighbors=record.common_neighbors,
                resource_allocation=record.resource_allocation,
                adoption_rate=record.adoption_rate,
                tie_strength=record.tie_strength,
                introducer_influence=record.introducer_influence,
            ),
            introducers=[
                Introducer(
                    score=i.score,
                    common_neighbors=i.common_neighbors,
                    customer_id=strawberry.ID(i.customer_id),
                    path_ids=[strawberry.ID(p) for p in i.path],
                )
                for i in record.introducers
            ],
            run_id=record.run_id,
            customer=customer,
        )
