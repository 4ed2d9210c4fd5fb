"""Read-side Cypher for the API: customer 360, neighbourhoods, stored algorithm results.

Batch look-ups return their rows collected into one list (``rows``): one Bolt record instead
of one per row, which the Python driver reads an order of magnitude faster.

Everything variable in these statements is a parameter, except labels, relationship types,
property names and hop counts, which come from enums, the result-property allow-list and
validated integers — never from request text. Batch look-ups take ``$ids`` so one request
makes one round trip per kind of data (the API's DataLoaders call them), not one per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal, LiteralString

from graph.model import NodeLabel, TieKind
from graph.queries.analytics import RESULT_PROPERTIES, tie_types
from graph.queries.marketing import (
    RiskFlagRule,
    may_contact,
    product_eligible,
    risk_flag_reasons,
    risk_flagged,
)

# Properties that belong to the load's bookkeeping, not to what they describe.
_HIDDEN: Final = "crkg_row_hash, crkg_load_id, crkg_loaded_at"


def _literal(text: str) -> LiteralString:
    # Only enum values, allow-listed property names and validated ints are formatted in.
    return text  # mypy treats LiteralString as str (see graph/queries/loads.py)


def result_property(prop: str) -> LiteralString:
    if prop not in RESULT_PROPERTIES:
        raise ValueError(f"{prop!r} is not a stored algorithm result")
    return _literal(prop)


CUSTOMERS_BY_IDS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (c:Customer {customer_id: id})
OPTIONAL MATCH (c)-[:MANAGED_BY]->(rm:RelationshipManager)
RETURN collect({id: id, customer: c {
  .customer_id, .kind, .name, .city, .branch_id, .aum_minor, .risk_rating, .consent_marketing,
  .onboarded_at, .last_active_at, .phone, .id_number, .email, .birth_date, .defaulted_at,
  .tier, .lifecycle_stage,
  .community_wcc, .community_louvain, .community_leiden, .community_label_propagation,
  .score_pagerank, .score_degree, .score_betweenness, .score_personalized_pagerank,
  .score_referral_influence, .score_network_value, .score_exposure_minor
}, rm_id: rm.rm_id}) AS rows
"""

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
    return _literal(f"""
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

HOLDINGS_BY_CUSTOMERS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (:Customer {customer_id: id})-[h:HOLDS]->(p:Product)
WITH id, p, h ORDER BY id, p.product_id
RETURN collect({id: id, product: p {.product_id, .name, .category},
                holding: h {.since, .balance_minor, .status}}) AS rows
"""

SCENARIOS_BY_CUSTOMERS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (:Customer {customer_id: id})-[x:PARTICIPATES_IN]->(s:Scenario)
WITH id, s, x ORDER BY id, s.scenario_id
RETURN collect({id: id, scenario: s {.scenario_id, .name, .kind},
                participation: x {.role, .since, .activity}}) AS rows
"""

LINKAGES_BY_CUSTOMERS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (:Customer {customer_id: id})-[m:MEMBER_OF]->(l:RiskLinkage)
WITH id, l, m ORDER BY id, l.kind, l.linkage_id
RETURN collect({id: id, linkage: l {.linkage_id, .kind, .subtype, .size, .score, .amount_minor,
                  .min_amount_minor, .shared_kinds, .identifier_count, .loan_balance_minor,
                  .guarantees_out_minor, .total_exposure_minor},
                role: m.role}) AS rows
"""

IDENTIFIERS_BY_CUSTOMERS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (:Customer {customer_id: id})-[u:USES]->(i:Identifier)
WITH id, i ORDER BY id, i.kind, i.key
RETURN collect({id: id, kind: i.kind, key: i.key,
                shared_by: COUNT { (i)<-[:USES]-(:Customer) }}) AS rows
"""

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


def prospect_two_ties_from_book() -> LiteralString:
    """A customer outside an RM's book, two ties from it (the demo's referral-path example)."""
    types = tie_types(())
    return _literal(f"""
MATCH (:RelationshipManager {{rm_id: $rm_id}})<-[:MANAGED_BY]-(:Customer)
      -[:{types}]-(:Customer)-[:{types}]-(p:Customer)
WHERE NOT (p)-[:MANAGED_BY]->(:RelationshipManager {{rm_id: $rm_id}})
RETURN p.customer_id AS id ORDER BY id LIMIT 1
""")


def list_customers(
    *,
    search: Literal["names", "book_names", "id"] | None,
    tier: bool,
    scenario: bool,
    community_property: str | None,
) -> LiteralString:
    """One page of customers in id order (keyset: ``id > $after``), filters optional.

    ``search``: ``names`` matches names (CJK full text) of every customer; ``book_names``
    only of the customers managed by ``$book_rm_id`` (an RM may not probe masked names
    of others); ``id`` only an exact customer id. Every mode also matches the exact id.
    """
    parts = []
    if search in ("names", "book_names"):
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
    if tier:
        conditions.append("c.tier = $tier")
    if community_property is not None:
        conditions.append(f"c.{result_property(community_property)} = $community")
    if scenario:
        conditions.append(
            "EXISTS { (c)-[:PARTICIPATES_IN]->(:Scenario {scenario_id: $scenario_id}) }"
        )
    parts.append("WITH c WHERE " + " AND ".join(conditions))
    parts.append("WITH c.customer_id AS id ORDER BY id LIMIT $limit RETURN collect(id) AS ids")
    return _literal("\n".join(parts))


def neighbourhood(kinds: Sequence[TieKind], depth: int) -> LiteralString:
    """Customers within ``depth`` ties (nearest first), then the ties among all of them.

    Breadth first over DISTINCT frontiers, one level at a time, never over paths: level
    ``h`` is every customer one qualifying tie (kind in ``kinds``, strength at least
    ``$min_strength``, checked while expanding) from level ``h - 1`` that no earlier level
    holds, in id order, cut to what is left of ``$limit``; a level is expanded only while
    the levels before it left room, and then it is whole. So the answer is the one of a
    search over all paths — nearest first, by id within a hop, the first ``$limit`` — while
    each level costs one expansion of at most ``$limit`` customers, whatever their degrees
    (a variable-length pattern from a hub enumerates degree^depth paths instead).
    """
    if not 1 <= depth <= 3:
        raise ValueError("depth must be 1, 2 or 3")
    types = tie_types(kinds)
    levels = []
    for hop in range(1, depth + 1):
        levels.append(f"""
CALL (seen, frontier, found) {{
  UNWIND CASE WHEN size(found) < $limit THEN frontier ELSE [] END AS f
  MATCH (f)-[r:{types}]-(n:Customer)
  WHERE coalesce(r.strength, 1.0) >= $min_strength AND NOT n IN seen
  WITH DISTINCT n ORDER BY n.customer_id LIMIT $limit
  RETURN collect(n) AS level
}}
WITH c, seen, found, level[..($limit - size(found))] AS level
WITH c, seen + level AS seen, level AS frontier,
     found + [x IN level | {{node: x, hop: {hop}}}] AS found""")
    return _literal(f"""
MATCH (c:Customer {{customer_id: $customer_id}})
WITH c, [c] AS seen, [c] AS frontier, [] AS found
{"".join(levels)}
WITH c, found, seen AS members
CALL (members) {{
  UNWIND members AS a
  MATCH (a)-[r:{types}]->(b:Customer)
  WHERE b IN members AND coalesce(r.strength, 1.0) >= $min_strength
  RETURN collect({{src: a.customer_id, dst: b.customer_id, kind: type(r),
                  strength: r.strength, since: r.since}}) AS ties
}}
RETURN [x IN found | {{id: x.node.customer_id, hop: x.hop}}] AS nodes, ties
""")


COMMUNITIES: Final[LiteralString] = """
MATCH (k:Community)
WHERE ($algorithm IS NULL OR k.algorithm = $algorithm) AND k.size >= $min_size
RETURN k {.*} AS community
ORDER BY k.size DESC, k.community_id
SKIP $offset LIMIT $limit
"""

COMMUNITIES_BY_IDS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (k:Community {community_id: id})
RETURN collect({id: id, community: k {.*}}) AS rows
"""


COMMUNITY_PENETRATION: Final[LiteralString] = """
OPTIONAL MATCH (k:Community {community_id: $community_id})
OPTIONAL MATCH (p:Product {product_id: $product_id})
RETURN k.size AS size, k.product_holders_json AS holders, k.stale AS stale,
       k.profile_run_id AS run_id, k IS NOT NULL AS community_found,
       p IS NOT NULL AS product_found
"""


def community_members(community_property: str) -> LiteralString:
    """A page of members (keyset by id) for each of several communities of one algorithm."""
    prop = result_property(community_property)
    return _literal(f"""
UNWIND $pages AS page
CALL (page) {{
  MATCH (c:Customer) WHERE c.{prop} = page.local_id AND c.customer_id > page.after
  WITH c.customer_id AS id ORDER BY id
  WITH page, collect(id) AS ids
  RETURN ids[..page.limit] AS ids
}}
RETURN collect({{key: page.key, ids: ids}}) AS rows
""")


def influencers(
    metric_property: str,
    *,
    scenario: bool,
    community_property: str | None,
    branch: bool,
    rule: RiskFlagRule | None = None,
    exclude_flagged: bool = False,
) -> LiteralString:
    """Customers with the highest stored score, optionally within a scope.

    Every row says why the customer is risk-flagged (``risk_flags``, empty when not; computed
    with ``rule``, the default rule when None); ``exclude_flagged`` leaves flagged customers
    out (marketing lists).
    """
    prop = result_property(metric_property)
    screen = rule or RiskFlagRule()
    match = (
        "MATCH (c:Customer)-[:PARTICIPATES_IN]->(:Scenario {scenario_id: $scenario_id})"
        if scenario
        else "MATCH (c:Customer)"
    )
    conditions = [f"c.{prop} IS NOT NULL"]
    if community_property is not None:
        conditions.append(f"c.{result_property(community_property)} = $community")
    if branch:
        conditions.append("c.branch_id = $branch_id")
    if exclude_flagged:
        conditions.append(f"NOT {risk_flagged('c', screen)}")
    return _literal(f"""
{match}
WITH DISTINCT c WHERE {" AND ".join(conditions)}
WITH c ORDER BY c.{prop} DESC, c.customer_id LIMIT $limit
RETURN c.customer_id AS id, c.{prop} AS score, c.{prop}_run_id AS run_id,
       {risk_flag_reasons("c", screen)} AS risk_flags
ORDER BY score DESC, id
""")


def pagerank_contributions(kinds: Sequence[TieKind]) -> LiteralString:
    """Each neighbour's share of a customer's PageRank: its score × tie strength / its total.

    This is the last power-iteration step of weighted PageRank read backwards, so the shares
    say which ties carry the customer's influence.
    """
    types = tie_types(kinds)
    return _literal(f"""
UNWIND $ids AS id
MATCH (c:Customer {{customer_id: id}})-[r:{types}]-(n:Customer)
WHERE n.score_pagerank IS NOT NULL
WITH id, n, sum(coalesce(r.strength, 1.0)) AS weight
CALL (n) {{
  MATCH (n)-[s:{types}]-(:Customer)
  RETURN sum(coalesce(s.strength, 1.0)) AS total
}}
WITH id, n.customer_id AS neighbour, n.score_pagerank * weight / total AS contribution
ORDER BY id, contribution DESC
RETURN collect({{id: id, neighbour: neighbour, contribution: contribution}}) AS rows
""")


def referral_targets(rule: RiskFlagRule) -> LiteralString:
    """Stored targets of ($product_id, $scenario_key), screened again at read time.

    A target must still consent, not be risk-flagged and meet the product's eligibility
    rules on $as_of (rules or flags that changed since the run take effect at once); its
    stored introducers are screened the same way (``introducers_ok``: the ids still allowed).
    """
    return _literal(f"""
MATCH (c:Customer)-[t:REFERRAL_TARGET {{scenario_id: $scenario_key}}]->
      (p:Product {{product_id: $product_id}})
WHERE {may_contact("c", rule)}
  AND {product_eligible("c", "p")}
  AND ($scenario_id IS NULL OR
       EXISTS {{ (c)-[:PARTICIPATES_IN]->(:Scenario {{scenario_id: $scenario_id}}) }})
WITH c, t ORDER BY t.rank LIMIT $limit
RETURN c.customer_id AS id, t {{.*}} AS target,
       [i IN coalesce(t.introducer_ids, []) WHERE EXISTS {{
          MATCH (x:Customer {{customer_id: i}}) WHERE {may_contact("x", rule)} }}] AS introducers_ok
ORDER BY t.rank
""")


# How linkage lists may be ordered: largest first by the named property, then by id.
LINKAGE_ORDERS: Final[dict[str, str]] = {
    "size": "l.size DESC, coalesce(l.score, 0.0) DESC",
    "amount": "coalesce(l.amount_minor, -1) DESC, l.size DESC",
    "score": "coalesce(l.score, -1.0) DESC, l.size DESC",
    "total_exposure": "coalesce(l.total_exposure_minor, -1) DESC, l.size DESC",
    "loan_balance": "coalesce(l.loan_balance_minor, -1) DESC, l.size DESC",
    "guarantees_out": "coalesce(l.guarantees_out_minor, -1) DESC, l.size DESC",
}


def linkages(order_by: str = "size") -> LiteralString:
    """Stored linkages of $kind with $min_size..$max_size members, ordered by ``order_by``
    (a key of :data:`LINKAGE_ORDERS`), with their members."""
    if order_by not in LINKAGE_ORDERS:
        raise ValueError(
            f"linkages can be ordered by {', '.join(LINKAGE_ORDERS)}, not {order_by!r}"
        )
    order = _literal(LINKAGE_ORDERS[order_by])
    return _literal(f"""
MATCH (l:RiskLinkage {{kind: $kind}})
WHERE l.size >= $min_size AND l.size <= $max_size
WITH l ORDER BY {order}, l.linkage_id LIMIT $limit
RETURN l {{.*}} AS linkage,
       [(c:Customer)-[m:MEMBER_OF]->(l) | {{id: c.customer_id, position: m.position, role: m.role}}]
         AS members
""")


LINKAGES: Final[LiteralString] = linkages("size")

GROUP_OF_CUSTOMER: Final[LiteralString] = """
MATCH (:Customer {customer_id: $customer_id})-[:MEMBER_OF]->(l:RiskLinkage {kind: 'CONTROL_GROUP'})
WITH l ORDER BY l.size DESC, l.linkage_id LIMIT 1
RETURN l {.*} AS linkage,
       [(c:Customer)-[m:MEMBER_OF]->(l) | {id: c.customer_id, position: m.position, role: m.role}]
         AS members
"""

SHAREHOLDINGS_IN_GROUPS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (l:RiskLinkage {linkage_id: id})
CALL (l) {
  MATCH (a:Customer)-[:MEMBER_OF]->(l), (b:Customer)-[:MEMBER_OF]->(l)
  MATCH (a)-[h:HOLDS_SHARES]->(b)
  RETURN collect({src: a.customer_id, dst: b.customer_id, pct: h.pct}) AS holdings
}
UNWIND holdings AS holding
RETURN collect({id: id, holding: holding}) AS rows
"""


def guarantees_around(hops: int) -> LiteralString:
    """Every guarantee within ``hops`` of a customer, either direction."""
    if not 1 <= hops <= 4:
        raise ValueError("hops must be between 1 and 4")
    return _literal(f"""
MATCH (c:Customer {{customer_id: $customer_id}})
MATCH (c)-[rels:GUARANTEES*1..{hops}]-(:Customer)
UNWIND rels AS r
WITH DISTINCT r LIMIT $limit
RETURN startNode(r).customer_id AS src, endNode(r).customer_id AS dst,
       coalesce(r.amount_minor, 0) AS amount_minor
""")


ALGORITHM_RUNS: Final[LiteralString] = """
MATCH (r:AlgorithmRun)
WHERE $name IS NULL OR r.name = $name
RETURN r {.*} AS run
ORDER BY r.started_at DESC
LIMIT $limit
"""

ALGORITHM_RUN: Final[LiteralString] = """
MATCH (r:AlgorithmRun {run_id: $run_id}) RETURN r {.*} AS run
"""

RECORD_AUDIT_EVENTS: Final[LiteralString] = """
UNWIND $events AS event
CREATE (a:AuditEvent)
SET a = event
"""

HIDDEN_PROPERTIES: Final[frozenset[str]] = frozenset(p.strip() for p in _HIDDEN.split(","))
