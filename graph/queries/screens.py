"""The screens marketing applies to every list it makes, defined once as Cypher fragments.

**Risk-flagged** (:func:`risk_flagged`, :func:`risk_flag_reasons`): a customer is flagged when

* ``RISK_RATING``: ``risk_rating >= $risk_rating_limit`` (``CRKG_RISK_FLAG_RATING``, default 4);
* ``RISK_LINKAGE``: it is a member of any ``RiskLinkage`` (guarantee circle, identifier ring,
  fund cycle, control group);
* ``NEAR_DEFAULT``: it is a defaulted borrower (``defaulted_at`` set) or within ``k`` ties of
  one (``CRKG_RISK_FLAG_DEFAULT_HOPS``, default 1), where a tie is any social tie (FAMILY,
  SPOUSE, FRIEND, COLLEAGUE, CLASSMATE, BUSINESS) or a guarantee, in either direction.

A flagged customer is never a referral target nor an introducer, and influencer lists can
leave them out; targets and introducers are screened when a run picks them and again when
they are read, so a customer flagged since the run drops off.

**Eligible for a product** (:func:`product_eligible`): every rule the product carries holds
(``eligible_kinds``, ``min_age``/``max_age`` against ``birth_date`` on ``$as_of``,
``eligible_scenario_kinds``: a participation in a scenario of one of those kinds, ``min_tier``);
a customer whose age or tier is unknown does not meet a rule that needs it.

Variables are ``c`` (or another name given) for the customer and ``p`` for the product; the
only formatted-in pieces are variable names from a fixed set, enum values and a validated hop
count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal, LiteralString

from graph.model import RelType, TieKind, Tier
from graph.queries.ties import literal

Var = Literal["c", "x", "n", "t"]

RISK_RATING: Final = "RISK_RATING"
RISK_LINKAGE: Final = "RISK_LINKAGE"
NEAR_DEFAULT: Final = "NEAR_DEFAULT"
RISK_FLAG_REASONS: Final = (RISK_RATING, RISK_LINKAGE, NEAR_DEFAULT)
MAX_DEFAULT_HOPS: Final = 3


@dataclass(frozen=True)
class RiskFlagRule:
    """The parameters of "risk-flagged" (from ``CRKG_RISK_FLAG_*``)."""

    rating_limit: int = 4  # flagged at or above this risk_rating (6: the rating never flags)
    default_hops: int = 1  # ties to a defaulted borrower that flag; 0: only the borrower

    def __post_init__(self) -> None:
        if not 0 <= self.default_hops <= MAX_DEFAULT_HOPS:
            raise ValueError(f"default_hops must be in 0..{MAX_DEFAULT_HOPS}")

    @classmethod
    def from_settings(cls, settings: Any) -> RiskFlagRule:
        return cls(settings.risk_flag_rating, settings.risk_flag_default_hops)

    def parameters(self) -> dict[str, Any]:
        """The query parameters every fragment of this module reads."""
        return {"risk_rating_limit": self.rating_limit}

    def describe(self) -> dict[str, Any]:
        return {"rating_at_least": self.rating_limit, "default_hops": self.default_hops}


# ties that carry default risk: social ties and guarantees, either direction
_DEFAULT_TIES: Final = "|".join([*(k.value for k in TieKind), RelType.GUARANTEES.value])


def _conditions(var: Var, rule: RiskFlagRule) -> dict[str, LiteralString]:
    near = f"{var}.defaulted_at IS NOT NULL"
    if rule.default_hops > 0:
        near = (
            f"({near} OR EXISTS {{ MATCH ({var})-[:{_DEFAULT_TIES}*1..{int(rule.default_hops)}]-"
            "(d:Customer) WHERE d.defaulted_at IS NOT NULL })"
        )
    return {
        RISK_RATING: f"coalesce({var}.risk_rating, 0) >= $risk_rating_limit",
        RISK_LINKAGE: f"EXISTS {{ ({var})-[:MEMBER_OF]->(:RiskLinkage) }}",
        NEAR_DEFAULT: literal(near),
    }


def risk_flagged(var: Var, rule: RiskFlagRule) -> LiteralString:
    """A predicate: the customer ``var`` is risk-flagged."""
    return literal("(" + " OR ".join(_conditions(var, rule).values()) + ")")


def risk_flag_reasons(var: Var, rule: RiskFlagRule) -> LiteralString:
    """An expression: the list of reasons ``var`` is flagged (empty when it is not)."""
    cases = ", ".join(
        f"CASE WHEN {condition} THEN '{reason}' END"
        for reason, condition in _conditions(var, rule).items()
    )
    return literal(f"[reason IN [{cases}] WHERE reason IS NOT NULL]")


def may_contact(var: Var, rule: RiskFlagRule) -> LiteralString:
    """A predicate: ``var`` consented to marketing and is not risk-flagged (targets and
    introducers alike: an introducer is contacted too)."""
    return literal(f"({var}.consent_marketing = true AND NOT {risk_flagged(var, rule)})")


_TIER_RANK: Final = " ".join(f"WHEN '{tier.value}' THEN {i}" for i, tier in enumerate(Tier))


def _tier_rank(expression: str) -> str:
    return f"CASE {expression} {_TIER_RANK} ELSE -1 END"


def product_eligible(var: Var = "c", product: Literal["p"] = "p") -> LiteralString:
    """A predicate: customer ``var`` meets every eligibility rule of product ``p`` on $as_of."""
    age = f"duration.between({var}.birth_date, $as_of).years"
    return literal(
        f"(({product}.eligible_kinds IS NULL OR {var}.kind IN {product}.eligible_kinds)"
        f" AND ({product}.min_age IS NULL OR "
        f"({var}.birth_date IS NOT NULL AND {age} >= {product}.min_age))"
        f" AND ({product}.max_age IS NULL OR "
        f"({var}.birth_date IS NOT NULL AND {age} <= {product}.max_age))"
        f" AND ({product}.eligible_scenario_kinds IS NULL OR EXISTS {{ MATCH ({var})"
        f"-[:PARTICIPATES_IN]->(s:Scenario) WHERE s.kind IN {product}.eligible_scenario_kinds }})"
        f" AND ({product}.min_tier IS NULL OR "
        f"{_tier_rank(f'{var}.tier')} >= {_tier_rank(f'{product}.min_tier')}))"
    )
