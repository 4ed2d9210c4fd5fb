"""Every Customer property an algorithm writes, declared once.

The allow-list of properties formatted into Cypher, the customer read (which properties a
360 view carries), the per-community indexes and the GraphQL enums (``CommunityAlgorithm``,
``InfluenceMetric``) all derive from :class:`ResultProperty`; a new algorithm that writes a
new property adds one line here.

A scoped run (a scenario, a community, a branch, a tie window) of a community or score
algorithm writes ``<property>_scoped``: the plain property always holds a whole-graph run,
so the values the API ranks stay comparable.

Examples
--------
>>> ResultProperty.COMMUNITY_LOUVAIN.algorithm
'louvain'
>>> ResultProperty.SCORE_PAGERANK.scoped
'score_pagerank_scoped'
>>> checked_property("score_pagerank_scoped")
'score_pagerank_scoped'
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, LiteralString

SCOPED_SUFFIX: Final = "_scoped"
COMMUNITY_PREFIX: Final = "community_"
SCORE_PREFIX: Final = "score_"


class ResultProperty(StrEnum):
    COMMUNITY_WCC = "community_wcc"
    COMMUNITY_LOUVAIN = "community_louvain"
    COMMUNITY_LEIDEN = "community_leiden"
    COMMUNITY_LABEL_PROPAGATION = "community_label_propagation"
    SCORE_PAGERANK = "score_pagerank"
    SCORE_DEGREE = "score_degree"
    SCORE_BETWEENNESS = "score_betweenness"
    SCORE_K_CORE = "score_k_core"  # core number (integer)
    SCORE_PERSONALIZED_PAGERANK = "score_personalized_pagerank"
    SCORE_REFERRAL_INFLUENCE = "score_referral_influence"
    SCORE_NETWORK_VALUE = "score_network_value"
    SCORE_EXPOSURE = "score_exposure_minor"  # integer minor units
    TIER = "tier"
    LIFECYCLE_STAGE = "lifecycle_stage"

    @property
    def is_community(self) -> bool:
        return self.value.startswith(COMMUNITY_PREFIX)

    @property
    def is_score(self) -> bool:
        return self.value.startswith(SCORE_PREFIX)

    @property
    def algorithm(self) -> str:
        """The community algorithm whose partition this property holds (``louvain``)."""
        if not self.is_community:
            raise ValueError(f"{self.value} is not a community property")
        return self.value.removeprefix(COMMUNITY_PREFIX)

    @property
    def scoped(self) -> str:
        """Where a scoped run writes (community and score properties only)."""
        if not (self.is_community or self.is_score):
            raise ValueError(f"{self.value} has no scoped variant")
        return f"{self.value}{SCOPED_SUFFIX}"

    def written_by(self, *, whole_graph: bool) -> str:
        """The property a whole-graph or a scoped run writes."""
        return self.value if whole_graph else self.scoped


COMMUNITY_PROPERTIES: Final[tuple[ResultProperty, ...]] = tuple(
    p for p in ResultProperty if p.is_community
)
SCORE_PROPERTIES: Final[tuple[ResultProperty, ...]] = tuple(p for p in ResultProperty if p.is_score)
# Every property name an algorithm may write, scoped variants included.
RESULT_PROPERTIES: Final[frozenset[str]] = frozenset(
    {p.value for p in ResultProperty}
    | {p.scoped for p in (*COMMUNITY_PROPERTIES, *SCORE_PROPERTIES)}
)


def checked_property(prop: str) -> LiteralString:
    """``prop`` if it is a result property (a name safe to format into Cypher), else an error."""
    if prop not in RESULT_PROPERTIES:
        raise ValueError(f"{prop!r} is not a result property an algorithm may write")
    return prop  # from the allow-list above


def community_property(prop: str) -> LiteralString:
    """``prop`` if it holds a whole-graph community partition, else an error."""
    if prop not in {p.value for p in COMMUNITY_PROPERTIES}:
        raise ValueError(f"{prop!r} is not a community property")
    return checked_property(prop)


def community_property_of(algorithm: str) -> ResultProperty:
    """The property holding ``algorithm``'s partition (``louvain`` → ``community_louvain``)."""
    return ResultProperty(f"{COMMUNITY_PREFIX}{algorithm}")
