"""The GraphQL enums every area uses: the domain's enums under their GraphQL names, and the
community algorithms (from the result properties)."""

from __future__ import annotations

from enum import Enum
from typing import Any, TypeAlias

import strawberry

from graph.model import LifecycleStage, TieKind, Tier
from graph.results import COMMUNITY_PROPERTIES, community_property_of

# The domain's enums become GraphQL enums of the same values (the only way a choice reaches
# Cypher).
strawberry.enum(TieKind, name="TieType", description="kinds of social tie")
TieType: TypeAlias = TieKind  # import this where a GraphQL type names ties: it registers them
strawberry.enum(Tier, name="Tier")
strawberry.enum(LifecycleStage, name="LifecycleStage")

# every algorithm whose partition is stored on customers (community_<algorithm>)
_COMMUNITY_ALGORITHMS: Any = Enum(  # type: ignore[misc]  # members come from graph.results
    "CommunityAlgorithm", {p.algorithm.upper(): p.algorithm for p in COMMUNITY_PROPERTIES}
)
CommunityAlgorithm: Any = strawberry.enum(_COMMUNITY_ALGORITHMS, name="CommunityAlgorithm")


def customer_property(algorithm: Any) -> str:
    """The Customer property holding ``algorithm``'s partition (``community_louvain``)."""
    return community_property_of(str(algorithm.value)).value
