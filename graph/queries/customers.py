"""Customers: the 360 view and its parts (RM, holdings, scenarios, identifiers), pages and
searches, the customer sets algorithms start from, and the result properties they write.

Batch look-ups take ``$ids`` and return their rows collected into one list (``rows``): one
Bolt record instead of one per row, which the Python driver reads an order of magnitude
faster, and one round trip per kind of data for the API's DataLoaders.
"""

from __future__ import annotations

from typing import Final, Literal, LiteralString

from graph.model import NodeLabel
from graph.queries.screens import RiskFlagRule, may_contact, risk_flag_reasons
from graph.queries.ties import literal
from graph.results import ResultProperty, checked_property

_RESULTS: Final = ", ".join(f".{p.value}" for p in ResultProperty)
# the runs whose dates an answer states (the lifecycle stage's reference day)
_RESULT_RUNS: Final = f".{ResultProperty.LIFECYCLE_STAGE.value}_run_id"

CUSTOMERS_BY_IDS: Final[LiteralString] = literal(f"""
UNWIND $ids AS id
MATCH (c:Customer {{customer_id: id}})
OPTIONAL MATCH (c)-[:MANAGED_BY]->(rm:RelationshipManager)
RETURN collect({{id: id, customer: c {{
  .customer_id, .kind, .name, .city, .branch_id, .aum_minor, .risk_rating, .consent_marketing,
  .onboarded_at, .last_active_at, .phone, .id_number, .email, .birth_date, .defaulted_at,
  {_RESULTS}, {_RESULT_RUNS}
}}, rm_id: rm.rm_id}}) AS rows
""")

# The key property of every label a request may name by id.
KEY_PROPERTIES: Final[dict[NodeLabel, str]] = {
    NodeLabel.CUSTOMER: "customer_id",
    NodeLabel.RELATIONSHIP_MANAGER: "rm_id",
    NodeLabel.PRODUCT: "product_id",
    NodeLabel.SCENARIO: "scenario_id",
    NodeLabel.PARTNER: "partner_id",
}


def existing_keys(label: NodeLabel) -> LiteralString:
    """Which of ``$ids`` exist as ``label`` nodes (by the label's unique key)."""
    key = KEY_PROPERTIES[label]
    return literal(f"""
UNWIND $ids AS id
MATCH (n:{label.value} {{{key}: id}})
RETURN collect(id) AS ids
""")


BRANCH_EXISTS: Final[LiteralString] = """
RETURN EXISTS { MATCH (c:Customer) WHERE c.branch_id = $branch_id } AS exists
"""

MANAGERS_BY_IDS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (rm:RelationshipManager {rm_id: id})
RETURN collect({id: id, manager: rm {.rm_id, .name, .branch_id}}) AS rows
"""


def per_customer(
    match: LiteralString, carry: LiteralString, order: LiteralString, row: LiteralString
) -> LiteralString:
    """What each customer of ``$ids`` reaches by the pattern ``match`` (from the customer), in
    ``order`` per customer, collected into ``rows`` of ``{id, <row>}``: the one shape of every
    per-customer batch read (the repositories group it by ``id``)."""
    return literal(f"""
UNWIND $ids AS id
MATCH (:Customer {{customer_id: id}})-{match}
WITH id, {carry} ORDER BY id, {order}
RETURN collect({{id: id, {row}}}) AS rows
""")


HOLDINGS_BY_CUSTOMERS: Final[LiteralString] = per_customer(
    "[h:HOLDS]->(p:Product)",
    "p, h",
    "p.product_id",
    "product: p {.product_id, .name, .category}, holding: h {.since, .balance_minor, .status}",
)

SCENARIOS_BY_CUSTOMERS: Final[LiteralString] = per_customer(
    "[x:PARTICIPATES_IN]->(s:Scenario)",
    "s, x",
    "s.scenario_id",
    "scenario: s {.scenario_id, .name, .kind}, participation: x {.role, .since, .activity}",
)

IDENTIFIERS_BY_CUSTOMERS: Final[LiteralString] = per_customer(
    "[u:USES]->(i:Identifier)",
    "i",
    "i.kind, i.key",
    "kind: i.kind, key: i.key, shared_by: COUNT { (i)<-[:USES]-(:Customer) }",
)

CUSTOMERS_EXIST: Final[LiteralString] = """
UNWIND $ids AS id
OPTIONAL MATCH (c:Customer {customer_id: id})
RETURN collect(CASE WHEN c IS NULL THEN id END) AS missing
"""


def list_customers(
    *,
    search: Literal["names", "book_names", "id"] | None,
    tier: bool,
    scenario: bool,
    community_property: str | None,
    mine: bool = False,
    initial: bool = False,
) -> LiteralString:
    """One page of customers in id order (keyset: ``id > $after``), filters optional.

    ``search``: ``names`` matches names (CJK full text) of every customer; ``book_names``
    only of the customers managed by ``$book_rm_id`` (an RM may not probe masked names
    of others); ``id`` only an exact customer id. Every mode also matches the exact id.
    ``initial``: the search is one character, which the full-text index (CJK bigrams)
    cannot match: names starting with it (a surname) instead. ``mine``: only the
    customers ``$book_rm_id`` manages.
    """
    parts = []
    book_filter = "EXISTS { (c)-[:MANAGED_BY]->(:RelationshipManager {rm_id: $book_rm_id}) }"
    if search in ("names", "book_names") and initial:
        parts.append("MATCH (c:Customer)")
    elif search in ("names", "book_names"):
        book = (
            " AND EXISTS { (node)-[:MANAGED_BY]->(:RelationshipManager {rm_id: $book_rm_id}) }"
            if search == "book_names"
            else ""
        )
        parts.append(
            "CALL () { CALL db.index.fulltext.queryNodes('customer_name_fulltext', $search) "
            f"YIELD node WHERE node.customer_id > $after{book} RETURN node AS c UNION "
            "MATCH (c:Customer {customer_id: $raw_search}) RETURN c }"
        )
    elif search == "id":
        parts.append("MATCH (c:Customer {customer_id: $raw_search})")
    else:
        parts.append("MATCH (c:Customer)")
    conditions = ["c.customer_id > $after"]
    if search in ("names", "book_names") and initial:
        name = "(c.name STARTS WITH $raw_search OR c.customer_id = $raw_search)"
        conditions.append(f"{name} AND {book_filter}" if search == "book_names" else name)
    if mine:
        conditions.append(book_filter)
    if tier:
        conditions.append("c.tier = $tier")
    if community_property is not None:
        conditions.append(f"c.{checked_property(community_property)} = $community")
    if scenario:
        conditions.append(
            "EXISTS { (c)-[:PARTICIPATES_IN]->(:Scenario {scenario_id: $scenario_id}) }"
        )
    parts.append("WITH c WHERE " + " AND ".join(conditions))
    parts.append("WITH c.customer_id AS id ORDER BY id LIMIT $limit RETURN collect(id) AS ids")
    return literal("\n".join(parts))


def influencers(
    metric_property: str,
    *,
    scenario: bool,
    community_property: str | None,
    branch: bool,
    rule: RiskFlagRule | None = None,
    contactable_only: bool = False,
) -> LiteralString:
    """Customers with the highest stored score, optionally within a scope.

    Every row says why the customer is risk-flagged (``risk_flags``, empty when not; computed
    with ``rule``, the default rule when None); ``contactable_only`` keeps only those who
    may be contacted (:func:`~graph.queries.screens.may_contact`: consent and not flagged,
    the screen of referral targets and introducers), for marketing lists.
    """
    prop = checked_property(metric_property)
    screen = rule or RiskFlagRule()
    match = (
        "MATCH (c:Customer)-[:PARTICIPATES_IN]->(:Scenario {scenario_id: $scenario_id})"
        if scenario
        else "MATCH (c:Customer)"
    )
    conditions = [f"c.{prop} IS NOT NULL"]
    if community_property is not None:
        conditions.append(f"c.{checked_property(community_property)} = $community")
    if branch:
        conditions.append("c.branch_id = $branch_id")
    returned = f"""RETURN c.customer_id AS id, c.{prop} AS score, c.{prop}_run_id AS run_id,
       {risk_flag_reasons("c", screen)} AS risk_flags, scope_rank
ORDER BY scope_rank"""
    if not contactable_only:
        return literal(f"""
{match}
WITH DISTINCT c WHERE {" AND ".join(conditions)}
WITH c ORDER BY c.{prop} DESC, c.customer_id LIMIT $limit
WITH collect(c) AS ranked
UNWIND range(1, size(ranked)) AS scope_rank
WITH ranked[scope_rank - 1] AS c, scope_rank
{returned}
""")
    # the rank among everyone in the scope, then the screen: a row keeps the rank the risk
    # role sees for the same customer (gaps where someone was left out)
    return literal(f"""
{match}
WITH DISTINCT c WHERE {" AND ".join(conditions)}
WITH c ORDER BY c.{prop} DESC, c.customer_id
WITH collect(c) AS ranked
UNWIND range(1, size(ranked)) AS scope_rank
WITH ranked[scope_rank - 1] AS c, scope_rank
WHERE {may_contact("c", screen)}
WITH c, scope_rank ORDER BY scope_rank LIMIT $limit
{returned}
""")


# --- risk: defaults and flags -------------------------------------------------------------------
def risk_flags_of(rule: RiskFlagRule) -> LiteralString:
    """Each of $ids with the reasons it is risk-flagged under ``rule`` (empty when not)."""
    return literal(f"""
UNWIND $ids AS id
MATCH (c:Customer {{customer_id: id}})
RETURN collect({{id: id, flags: {risk_flag_reasons("c", rule)}}}) AS rows
""")


# Defaulted borrowers after the cursor $after, in id order.
DEFAULTED_BORROWERS: Final[LiteralString] = """
MATCH (c:Customer)
WHERE c.defaulted_at IS NOT NULL AND c.customer_id > $after
RETURN c.customer_id AS id ORDER BY id LIMIT $limit
"""


# --- examples the demo picks its subjects with ------------------------------------------------
LARGEST_BOOK_RM: Final[LiteralString] = """
MATCH (c:Customer)-[:MANAGED_BY]->(rm:RelationshipManager)
RETURN rm.rm_id AS id, count(c) AS book ORDER BY book DESC, id LIMIT 1
"""

MOST_HELD_PRODUCT: Final[LiteralString] = """
MATCH (p:Product)<-[h:HOLDS]-(:Customer)
RETURN p.product_id AS id, count(h) AS holders ORDER BY holders DESC, id LIMIT 1
"""

SCENARIO_TARGETING_EXAMPLE: Final[LiteralString] = """
MATCH (s:Scenario)<-[:PARTICIPATES_IN]-(c:Customer)
WITH s, count(c) AS members
MATCH (p:Product) WHERE s.kind IN coalesce(p.eligible_scenario_kinds, [])
RETURN p.product_id AS product_id, s.scenario_id AS scenario_id
ORDER BY members DESC, s.scenario_id, p.product_id LIMIT 1
"""

# --- customer sets algorithms start from -----------------------------------------------------
READ_PRODUCT_IDS: Final[LiteralString] = """
MATCH (p:Product) WHERE $product_id IS NULL OR p.product_id = $product_id
WITH p.product_id AS id ORDER BY id
RETURN collect(id) AS ids
"""

# Holders: a HOLDS that is ACTIVE, DORMANT or status-less; a CLOSED holding does not count.
READ_HOLDERS: Final[LiteralString] = """
MATCH (c:Customer)-[h:HOLDS]->(p:Product {product_id: $product_id})
WHERE coalesce(h.status, 'ACTIVE') <> 'CLOSED'
RETURN collect(DISTINCT c.customer_id) AS ids
"""

READ_SCENARIO_MEMBERS: Final[LiteralString] = """
MATCH (c:Customer)-[:PARTICIPATES_IN]->(:Scenario {scenario_id: $scenario_id})
RETURN collect(DISTINCT c.customer_id) AS ids
"""

READ_RM_BOOK: Final[LiteralString] = """
MATCH (c:Customer)-[:MANAGED_BY]->(:RelationshipManager {rm_id: $rm_id})
WITH c.customer_id AS id ORDER BY id
RETURN collect(id) AS ids
"""

READ_SEGMENT_INPUTS: Final[LiteralString] = """
MATCH (c:Customer)
RETURN c.customer_id AS id, c.aum_minor AS aum, c.onboarded_at AS onboarded_at,
       c.last_active_at AS last_active_at
"""


# --- result properties -------------------------------------------------------------------------
def read_result(prop: str) -> LiteralString:
    checked = checked_property(prop)
    return (
        f"MATCH (c:Customer) WHERE c.{checked} IS NOT NULL "
        f"RETURN c.customer_id AS id, c.{checked} AS value"
    )


def staging_prefix(prop: str) -> str:
    """What every run's staging property of ``prop`` starts with."""
    return f"{checked_property(prop)}_pending"


def staging_property(prop: str, run_id: str) -> str:
    """The property the run ``run_id`` stages its values of ``prop`` in: one per run, so two
    runs of one algorithm at once never overwrite or drop each other's stage (only ever a
    parameter: ``c[$stage]``, never formatted into Cypher)."""
    return f"{staging_prefix(prop)}:{run_id}"


def stage_result(prop: str) -> LiteralString:
    """A batch of a run's values, staged beside the served property in the run's own staging
    property ``$stage`` (never read from there)."""
    checked_property(prop)
    return (
        "UNWIND $rows AS row MATCH (c:Customer {customer_id: row.id}) "
        "SET c[$stage] = row.value "
        "RETURN count(c) AS written"
    )


def publish_result(prop: str) -> LiteralString:
    """Every value the run ``$run_id`` staged (in ``$stage``) becomes the served one, stamped
    with the run; what other runs staged is left alone (see :func:`drop_abandoned_stages`)."""
    checked = checked_property(prop)
    return (
        "MATCH (c:Customer) WHERE c[$stage] IS NOT NULL "
        f"SET c.{checked} = c[$stage], c.{checked}_run_id = $run_id "
        "REMOVE c[$stage] "
        "RETURN count(c) AS written"
    )


# The stages of ``prop`` of runs no longer RUNNING (killed, failed as abandoned, or of a
# version that staged in `<prop>_pending` / `<prop>_pending_run_id`): dropped, never served.
# A live run's stage is kept: it publishes it itself.
DROP_ABANDONED_STAGES: Final[LiteralString] = """
CALL db.propertyKeys() YIELD propertyKey AS key
WITH key
WHERE key <> $stage
  AND (key = $prefix OR key = $prefix + '_run_id' OR key STARTS WITH $prefix + ':')
OPTIONAL MATCH (run:AlgorithmRun {
  run_id: CASE WHEN key STARTS WITH $prefix + ':' THEN substring(key, size($prefix) + 1) END
})
WITH key, run
WHERE NOT key STARTS WITH $prefix + ':' OR run IS NULL OR run.status <> 'RUNNING'
WITH collect(key) AS dropped
MATCH (c:Customer) WHERE any(k IN dropped WHERE c[k] IS NOT NULL)
FOREACH (k IN dropped | REMOVE c[k])
RETURN count(c) AS written
"""
