"""REFERRAL_TARGET relationships (customer → product, per scenario) and the screens a run
applies when it picks targets and introducers, applied again when they are read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, LiteralString

from graph.model import TieKind
from graph.queries.screens import RiskFlagRule, may_contact, product_eligible, risk_flag_reasons
from graph.queries.ties import literal, tie_types

DELETE_REFERRAL_TARGETS: Final[LiteralString] = """
MATCH (p:Product {product_id: $product_id})<-[r:REFERRAL_TARGET {scenario_id: $scenario_id}]-()
DELETE r
"""

WRITE_REFERRAL_TARGETS: Final[LiteralString] = """
MATCH (p:Product {product_id: $product_id})
UNWIND $rows AS row
MATCH (c:Customer {customer_id: row.customer_id})
CREATE (c)-[r:REFERRAL_TARGET]->(p)
SET r = row.props, r.run_id = $run_id
RETURN count(r) AS written
"""


def referral_targets(rule: RiskFlagRule) -> LiteralString:
    """Stored targets of ($product_id, $scenario_key), screened again at read time.

    A target must still consent, not be risk-flagged and meet the product's eligibility
    rules on $as_of (rules or flags that changed since the run take effect at once); its
    stored introducers are screened the same way (``introducers_ok``: the ids still allowed),
    and so are the people in the middle of their paths (``intermediaries_barred``: the ids
    no longer allowed; an introducer whose path goes through one is dropped). ``left_out``:
    those introducers and path members who may not be contacted, with their risk flags
    (empty: no marketing consent), for the roles that read risk.
    """
    return literal(f"""
MATCH (c:Customer)-[t:REFERRAL_TARGET {{scenario_id: $scenario_key}}]->
      (p:Product {{product_id: $product_id}})
WHERE {may_contact("c", rule)}
  AND {product_eligible("c", "p")}
  AND ($scenario_id IS NULL OR
       EXISTS {{ (c)-[:PARTICIPATES_IN]->(:Scenario {{scenario_id: $scenario_id}}) }})
WITH c, t ORDER BY t.rank LIMIT $limit
RETURN c.customer_id AS id, t {{.*}} AS target,
       [i IN coalesce(t.introducer_ids, []) WHERE EXISTS {{
          MATCH (x:Customer {{customer_id: i}}) WHERE {may_contact("x", rule)} }}]
         AS introducers_ok,
       [i IN coalesce(t.intermediary_ids, []) WHERE NOT EXISTS {{
          MATCH (x:Customer {{customer_id: i}}) WHERE {may_contact("x", rule)} }}]
         AS intermediaries_barred,
       COLLECT {{ MATCH (x:Customer)
                  WHERE x.customer_id IN
                        coalesce(t.introducer_ids, []) + coalesce(t.intermediary_ids, [])
                    AND NOT {may_contact("x", rule)}
                  RETURN {{customer_id: x.customer_id, flags: {risk_flag_reasons("x", rule)}}}
                  ORDER BY x.customer_id }} AS left_out
ORDER BY t.rank
""")


def read_contactable(rule: RiskFlagRule) -> LiteralString:
    """Every customer who may be contacted (consent, not flagged): the possible introducers."""
    return literal(
        f"MATCH (c:Customer) WHERE {may_contact('c', rule)} "
        "WITH c.customer_id AS id ORDER BY id RETURN collect(id) AS ids"
    )


def read_uncontactable(rule: RiskFlagRule) -> LiteralString:
    """Those of the customers in $ids who may not be contacted (the people to keep off a
    warm introduction path)."""
    return literal(
        "UNWIND $ids AS id MATCH (c:Customer {customer_id: id}) "
        f"WHERE NOT {may_contact('c', rule)} RETURN collect(id) AS ids"
    )


def read_eligible_targets(rule: RiskFlagRule) -> LiteralString:
    """Who may be targeted for product $product_id: contactable and eligible for it."""
    return literal(
        "MATCH (p:Product {product_id: $product_id}) "
        f"MATCH (c:Customer) WHERE {may_contact('c', rule)} AND {product_eligible('c', 'p')} "
        "WITH c.customer_id AS id ORDER BY id RETURN collect(id) AS ids"
    )


def read_risk_flags(rule: RiskFlagRule) -> LiteralString:
    """The flag reasons of the customers in $ids (only those flagged)."""
    return literal(
        "UNWIND $ids AS id MATCH (c:Customer {customer_id: id}) "
        f"WITH id, {risk_flag_reasons('c', rule)} AS reasons WHERE size(reasons) > 0 "
        "RETURN collect({id: id, reasons: reasons}) AS rows"
    )


# --- the dated history a learned referral model is fitted on (issue 13) ---------------------
# Days are integers since 1970-01-01 (null: no date stored).
_DAY = "duration.inDays(date('1970-01-01'), date({0})).days"


def _day(expression: str) -> str:
    return f"CASE WHEN {expression} IS NULL THEN null ELSE {_DAY.format(expression)} END"


READ_HISTORY_CUSTOMERS: Final[LiteralString] = literal(f"""
MATCH (c:Customer)
WITH c ORDER BY c.customer_id
RETURN collect([c.customer_id, {_day("c.onboarded_at")}, c.tier]) AS rows
""")

READ_HISTORY_PARTICIPATION: Final[LiteralString] = literal(f"""
MATCH (c:Customer)-[r:PARTICIPATES_IN]->(s:Scenario)
RETURN collect([c.customer_id, s.scenario_id, {_day("r.since")}]) AS rows
""")

# every HOLDS of the product that counts (not CLOSED), with the day it began
READ_HISTORY_HOLDINGS: Final[LiteralString] = literal(f"""
MATCH (c:Customer)-[h:HOLDS]->(:Product {{product_id: $product_id}})
WHERE coalesce(h.status, 'ACTIVE') <> 'CLOSED'
RETURN collect([c.customer_id, {_day("h.since")}]) AS rows
""")

# who may take the product at all (its eligibility rules on $as_of; consent is not asked:
# a customer without marketing consent can still adopt, and teaches the model)
READ_PRODUCT_ELIGIBLE: Final[LiteralString] = literal(f"""
MATCH (p:Product {{product_id: $product_id}})
MATCH (c:Customer) WHERE {product_eligible("c", "p")}
RETURN collect(c.customer_id) AS ids
""")


def read_history_ties(kinds: Sequence[TieKind]) -> LiteralString:
    """Every tie of the given kinds with its kind, strength (1.0 when missing) and day."""
    return literal(f"""
MATCH (a:Customer)-[r:{tie_types(kinds)}]->(b:Customer)
WHERE coalesce(r.strength, 1.0) >= $min_strength
RETURN collect([a.customer_id, b.customer_id, type(r), coalesce(r.strength, 1.0),
                {_day("r.since")}]) AS rows
""")
