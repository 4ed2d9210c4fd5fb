"""The in-process engine: crkg's graph algorithms on a :class:`~algorithms.graphdata.GraphData`.

Used when Neo4j has no GDS or the subgraph is small. One module per family, every function
pure (no I/O, no database, no global state): the graph first, keyword-only options, a typed
result, and a ``seed`` wherever randomness is involved.
"""

from algorithms.inproc.centrality import (
    NodeScores,
    PageRankResult,
    betweenness,
    degree,
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
from algorithms.inproc.cycles import (
    CircleKind,
    FundFlowCycle,
    GuaranteeCircle,
    fund_flow_cycles,
    guarantee_circles,
)
from algorithms.inproc.exposures import ExposedParty, ExposureResult, exposure, exposure_totals
from algorithms.inproc.paths import WarmPath, warmest_paths
from algorithms.inproc.referral import (
    TARGET_WEIGHTS,
    IntroductionPath,
    LinkScores,
    ScoredTarget,
    link_prediction,
    referral_influence,
    score_referral_targets,
)
from algorithms.inproc.risk import (
    IdentifierRing,
    RelatedPartyGroup,
    related_party_groups,
    shared_identifier_rings,
)
from algorithms.inproc.segmentation import lifecycle_stages, network_value, value_tiers

__all__ = [
    "TARGET_WEIGHTS",
    "CircleKind",
    "CommunityProfile",
    "CommunityResult",
    "ExposedParty",
    "ExposureResult",
    "FundFlowCycle",
    "GuaranteeCircle",
    "IdentifierRing",
    "IntroductionPath",
    "LinkScores",
    "NodeScores",
    "PageRankResult",
    "RelatedPartyGroup",
    "ScoredTarget",
    "WarmPath",
    "betweenness",
    "community_profiles",
    "degree",
    "exposure",
    "exposure_totals",
    "fund_flow_cycles",
    "guarantee_circles",
    "label_propagation",
    "leiden",
    "lifecycle_stages",
    "link_prediction",
    "louvain",
    "match_to_previous",
    "modularity",
    "network_value",
    "pagerank",
    "personalized_pagerank",
    "referral_influence",
    "related_party_groups",
    "score_referral_targets",
    "shared_identifier_rings",
    "value_tiers",
    "warmest_paths",
    "weakly_connected_components",
]
