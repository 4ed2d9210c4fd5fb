"""The in-process engine: crkg's graph algorithms on a :class:`~algorithms.graphdata.GraphData`.

Used when Neo4j has no GDS or the subgraph is small. One module per family, every function
pure (no I/O, no database, no global state): the graph first, keyword-only options, a typed
result, and a ``seed`` wherever randomness is involved.
"""

from algorithms.inproc.centrality import (
    Contribution,
    NodeScores,
    PageRankResult,
    betweenness,
    degree,
    explain_pagerank,
    pagerank,
    personalized_pagerank,
)
from algorithms.inproc.community import (
    CommunityProfile,
    CommunityResult,
    community_profiles,
    label_propagation,
    leiden,
    louvain,
    match_to_previous,
    modularity,
    weakly_connected_components,
)
from algorithms.inproc.referral import (
    Introducer,
    LinkScores,
    ReferralTarget,
    WarmPath,
    link_prediction,
    referral_targets,
    warmest_paths,
)
from algorithms.inproc.risk import (
    CircleKind,
    ExposedParty,
    ExposureResult,
    FundFlowCycle,
    GuaranteeCircle,
    IdentifierRing,
    RelatedPartyGroup,
    exposure,
    fund_flow_cycles,
    guarantee_circles,
    related_party_groups,
    shared_identifier_rings,
)
from algorithms.inproc.segmentation import lifecycle_stages, value_tiers

__all__ = [
    "CircleKind",
    "CommunityProfile",
    "CommunityResult",
    "Contribution",
    "ExposedParty",
    "ExposureResult",
    "FundFlowCycle",
    "GuaranteeCircle",
    "IdentifierRing",
    "Introducer",
    "LinkScores",
    "NodeScores",
    "PageRankResult",
    "ReferralTarget",
    "RelatedPartyGroup",
    "WarmPath",
    "betweenness",
    "community_profiles",
    "degree",
    "explain_pagerank",
    "exposure",
    "fund_flow_cycles",
    "guarantee_circles",
    "label_propagation",
    "leiden",
    "lifecycle_stages",
    "link_prediction",
    "louvain",
    "match_to_previous",
    "modularity",
    "pagerank",
    "personalized_pagerank",
    "referral_targets",
    "related_party_groups",
    "shared_identifier_rings",
    "value_tiers",
    "warmest_paths",
    "weakly_connected_components",
]
