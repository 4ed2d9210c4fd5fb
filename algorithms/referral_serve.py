"""What a ``referral_targets`` run adds to the fixed-weight targets: the learned ranking, the
parts of each score and the facts its reasons are told from (issue 13, stage 2).

The candidates and their introducers always come from
:func:`algorithms.inproc.referral.score_referral_targets` with the run's screening (eligible,
consenting, not risk-flagged targets; introducers and path members who may be contacted), so
the guardrails are the same code in both modes. In the learned mode the served model of
:mod:`algorithms.referral_model.served` re-ranks those candidates by its probability of
adoption; a candidate it has no features for scores 0.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable

from algorithms.inproc.referral import TARGET_WEIGHTS, ScoredTarget
from algorithms.referral_model.served import ServedModel
from graph.reasons import ReasonFacts
from graph.repositories.referral_targets import ReferralHistoryRows

__all__ = ["FIXED_LABEL", "fixed_parts", "learned_ranking", "reason_facts"]

FIXED_LABEL = "fixed-weight"


def fixed_parts(target: ScoredTarget, method: str = "adamic_adar") -> list[dict[str, float | str]]:
    """The four terms of the fixed-weight score (they add up to it), largest first; the
    link term's value is the raw ``method`` index the run ranked by.

    Examples
    --------
    >>> t = ScoredTarget("c", 1, 0.73, 1.2, 2.0, 0.5, 0.5, 0.9, 0.6, ())
    >>> [(p["feature"], round(float(p["contribution"]), 3)) for p in fixed_parts(t)]
    [('link', 0.335), ('tie', 0.18), ('adoption', 0.125), ('influence', 0.09)]
    """
    adoption = TARGET_WEIGHTS["adoption"] * target.adoption_rate
    tie = TARGET_WEIGHTS["tie"] * target.tie_strength
    influence = TARGET_WEIGHTS["influence"] * target.introducer_influence
    parts: list[dict[str, float | str]] = [
        {
            "feature": "link",
            "value": float(getattr(target, method)),
            "contribution": target.score - adoption - tie - influence,
        },
        {"feature": "adoption", "value": target.adoption_rate, "contribution": adoption},
        {"feature": "tie", "value": target.tie_strength, "contribution": tie},
        {"feature": "influence", "value": target.introducer_influence, "contribution": influence},
    ]
    parts.sort(key=lambda p: (-abs(float(p["contribution"])), str(p["feature"])))
    return parts


def learned_ranking(
    targets: list[ScoredTarget], served: ServedModel, top_n: int
) -> list[ScoredTarget]:
    """``targets`` re-ranked by the served model's score (ties by id), the best ``top_n``."""
    scores = served.scores([t.candidate for t in targets])
    ordered = sorted(targets, key=lambda t: (-scores.get(t.candidate, 0.0), t.candidate))
    return [
        dataclasses.replace(t, rank=rank, score=scores.get(t.candidate, 0.0))
        for rank, t in enumerate(ordered[:top_n], start=1)
    ]


def reason_facts(
    rows: ReferralHistoryRows, holders: Iterable[str], targets: Iterable[str]
) -> dict[str, ReasonFacts]:
    """Per target: the holders tied to it directly by kind (each holder once, by its
    strongest tie), the strongest tie, the holders two ties away and a shared scenario.

    Examples
    --------
    >>> rows = ReferralHistoryRows(
    ...     [], [("T", "H1", "COLLEAGUE", 0.9, None), ("H2", "T", "FRIEND", 0.4, None),
    ...          ("H2", "T", "COLLEAGUE", 0.7, None), ("T", "M", "FRIEND", 0.5, None),
    ...          ("M", "H3", "FAMILY", 0.8, None)],
    ...     [("T", "S1", None), ("H3", "S1", None)], [], [])
    >>> reason_facts(rows, ["H1", "H2", "H3"], ["T"])["T"].to_json()
    {'holder_kinds': {'COLLEAGUE': 2}, 'strongest_tie': 0.9, 'two_hop_holders': 1, \
'shares_scenario': True}
    """
    holder_set = set(holders)
    wanted = set(targets)
    neighbours: dict[str, dict[str, tuple[float, str]]] = defaultdict(dict)
    for a, b, kind, strength, _ in rows.ties:
        if a == b:
            continue
        for u, v in ((a, b), (b, a)):
            if strength > neighbours[u].get(v, (-1.0, ""))[0]:
                neighbours[u][v] = (strength, kind)
    scenarios: dict[str, set[str]] = defaultdict(set)
    holder_scenarios: dict[str, int] = defaultdict(int)
    for customer, scenario, _ in rows.participation:
        if customer in wanted:
            scenarios[customer].add(scenario)
        if customer in holder_set:
            holder_scenarios[scenario] += 1
    found = {}
    for target in wanted:
        direct = {v: sk for v, sk in neighbours.get(target, {}).items() if v in holder_set}
        kinds: dict[str, int] = defaultdict(int)
        for _, kind in direct.values():
            kinds[kind] += 1
        two_hop = {
            h
            for z in neighbours.get(target, {})
            for h in neighbours.get(z, {})
            if h in holder_set and h != target and h not in direct
        }
        found[target] = ReasonFacts(
            holder_kinds=dict(sorted(kinds.items())),
            strongest_tie=max((s for s, _ in direct.values()), default=0.0),
            two_hop_holders=len(two_hop),
            shares_scenario=any(holder_scenarios.get(s, 0) > 0 for s in scenarios[target]),
        )
    return found
