"""Reading projections for the in-process engine and writing algorithm results back.

Large reads return a few records of collected lists instead of one record per row: the
driver's per-record cost dominated (500k ties: 25 s as records through the async driver, 1.5 s
as lists in pages of 20,000 customers; see ``bench/algorithms.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal, LiteralString

from graph.model import TieKind

# Node properties algorithms may write. Results are read by the API, never recomputed.
_WHOLE_GRAPH_PROPERTIES: Final[frozenset[str]] = frozenset(
    {
        "community_wcc",
        "community_louvain",
        "community_leiden",
        "community_label_propagation",
        "score_pagerank",
        "score_degree",
        "score_betweenness",
        "score_personalized_pagerank",
        "score_referral_influence",
        "score_network_value",
        "score_exposure_minor",
        "tier",
        "lifecycle_stage",
    }
)

# A scoped run of a community or score algorithm writes ``<property>_scoped``: the plain
# property always holds a whole-graph run, so values the API ranks stay comparable.
SCOPED_SUFFIX: Final = "_scoped"
RESULT_PROPERTIES: Final[frozenset[str]] = _WHOLE_GRAPH_PROPERTIES | frozenset(
    f"{p}{SCOPED_SUFFIX}" for p in _WHOLE_GRAPH_PROPERTIES if p.startswith(("community_", "score_"))
)


COMMUNITY_PROPERTIES: Final[frozenset[str]] = frozenset(
    p for p in RESULT_PROPERTIES if p.startswith("community_") and not p.endswith(SCOPED_SUFFIX)
)


def _checked(prop: str) -> LiteralString:
    if prop not in RESULT_PROPERTIES:
        raise ValueError(f"{prop!r} is not a result property an algorithm may write")
    return prop  # from the allow-list above


def tie_types(kinds: Sequence[TieKind]) -> LiteralString:
    """``FAMILY|FRIEND…`` from the enum, each kind once (every kind when empty)."""
    chosen = tuple(kinds) or tuple(TieKind)
    return "|".join(TieKind(kind).value for kind in dict.fromkeys(chosen))  # from the enum


# --- scopes ------------------------------------------------------------------------------------
# A scope restricts customers (scenario participants, a community, a branch) and ties (their
# `since` inside a window). Predicates are built from flags and allow-listed property names;
# the values travel as $scope_* parameters.
def customer_predicate(
    var: Literal["a", "b", "c"],
    *,
    scenario: bool = False,
    branch: bool = False,
    community_property: str | None = None,
) -> LiteralString:
    """`true`, or the conjunction of the scope's conditions on customer variable ``var``."""
    parts: list[LiteralString] = []
    if scenario:
        parts.append(
            f"EXISTS {{ ({var})-[:PARTICIPATES_IN]->"
            "(:Scenario {scenario_id: $scope_scenario_id}) }"
        )
    if branch:
        parts.append(f"{var}.branch_id = $scope_branch_id")
    if community_property is not None:
        if community_property not in COMMUNITY_PROPERTIES:
            raise ValueError(f"{community_property!r} is not a community property")
        checked = _checked(community_property)
        parts.append(f"{var}.{checked} = $scope_community_id")
    return " AND ".join(parts) if parts else "true"


def tie_window_predicate(*, since_from: bool, since_to: bool) -> LiteralString:
    parts: list[LiteralString] = []
    if since_from:
        parts.append("r.since >= $scope_since_from")
    if since_to:
        parts.append("r.since <= $scope_since_to")
    return " AND ".join(parts) if parts else "true"


def read_customer_ids(predicate: LiteralString = "true") -> LiteralString:
    """Every (scoped) customer id, sorted, as one list."""
    return (
        f"MATCH (c:Customer) WHERE {predicate} "
        "WITH c.customer_id AS id ORDER BY id RETURN collect(id) AS ids"
    )


def read_ties(
    kinds: tuple[TieKind, ...],
    *,
    source: LiteralString = "true",
    target: LiteralString = "true",
    window: LiteralString = "true",
) -> LiteralString:
    """One page of ties of the given kinds, as three lists (strength 1.0 when missing).

    A page is the ties leaving customers with ids in [$lo, $hi) ($hi null: no upper bound),
    found through the unique index on customer_id. ``source``/``target`` are
    :func:`customer_predicate` on ``a``/``b``, ``window`` a :func:`tie_window_predicate`.
    """
    types = tie_types(kinds)
    return (
        f"MATCH (a:Customer) WHERE a.customer_id >= $lo AND ($hi IS NULL OR a.customer_id < $hi) "
        f"AND {source} "
        f"MATCH (a)-[r:{types}]->(b:Customer) "
        f"WHERE coalesce(r.strength, 1.0) >= $min_strength AND {target} AND {window} "
        "RETURN collect(a.customer_id) AS src, collect(b.customer_id) AS dst, "
        "collect(coalesce(r.strength, 1.0)) AS weight"
    )


def read_ties_around(kinds: tuple[TieKind, ...]) -> LiteralString:
    """Ties (either direction) at the customers in $ids: one hop of a bounded search."""
    types = tie_types(kinds)
    return (
        "UNWIND $ids AS id MATCH (a:Customer {customer_id: id}) "
        f"MATCH (a)-[r:{types}]-(b:Customer) WHERE coalesce(r.strength, 1.0) >= $min_strength "
        "RETURN collect(a.customer_id) AS src, collect(b.customer_id) AS dst, "
        "collect(coalesce(r.strength, 1.0)) AS weight"
    )


def gds_cypher_projection(
    kinds: tuple[TieKind, ...],
    *,
    source: LiteralString = "true",
    target: LiteralString = "true",
    window: LiteralString = "true",
) -> LiteralString:
    """A GDS Cypher projection of the scoped tie graph (undirected, weighted by strength)."""
    types = tie_types(kinds)
    return (
        f"MATCH (a:Customer) WHERE {source} "
        f"OPTIONAL MATCH (a)-[r:{types}]->(b:Customer) "
        f"WHERE coalesce(r.strength, 1.0) >= $min_strength AND {target} AND {window} "
        "WITH a, b, coalesce(r.strength, 1.0) AS strength "
        "RETURN gds.graph.project($graph_name, a, b, "
        "{relationshipProperties: {strength: strength}}, "
        "{undirectedRelationshipTypes: ['*']}) AS projected"
    )


def read_property(prop: str) -> LiteralString:
    checked = _checked(prop)
    return (
        f"MATCH (c:Customer) WHERE c.{checked} IS NOT NULL "
        f"RETURN c.customer_id AS id, c.{checked} AS value"
    )


def write_property(prop: str) -> LiteralString:
    checked = _checked(prop)
    return (
        "UNWIND $rows AS row MATCH (c:Customer {customer_id: row.id}) "
        f"SET c.{checked} = row.value, c.{checked}_run_id = $run_id RETURN count(c) AS written"
    )


RECORD_ALGORITHM_RUN: Final[LiteralString] = """
MERGE (run:AlgorithmRun {run_id: $run_id})
SET run += $properties
"""

GDS_NODE_KEYS: Final[LiteralString] = """
UNWIND $ids AS id
RETURN collect(id) AS ids, collect(gds.util.asNode(id).customer_id) AS customer_ids
"""


# --- risk linkages -----------------------------------------------------------------------------
READ_GUARANTEE_COLUMNS: Final[LiteralString] = """
MATCH (a:Customer)-[r:GUARANTEES]->(b:Customer)
RETURN collect(a.customer_id) AS src, collect(b.customer_id) AS dst,
       collect(coalesce(r.amount_minor, 0)) AS amount
"""

READ_IDENTIFIER_USES: Final[LiteralString] = """
MATCH (c:Customer)-[:USES]->(i:Identifier)
RETURN c.customer_id AS customer, i.key AS identifier
"""

READ_TRANSFERS: Final[LiteralString] = """
MATCH (a:Customer)-[r:TRANSFERRED_TO]->(b:Customer)
RETURN a.customer_id AS src, b.customer_id AS dst, r.amount_minor AS amount,
       r.at.epochMillis / 1000.0 AS at
"""

# Outstanding loans per customer (minor units): open holdings of LOAN-category products.
READ_LOAN_BALANCES: Final[LiteralString] = """
MATCH (c:Customer)-[h:HOLDS]->(:Product {category: 'LOAN'})
WHERE coalesce(h.status, 'ACTIVE') <> 'CLOSED'
RETURN c.customer_id AS id, sum(coalesce(h.balance_minor, 0)) AS balance
"""

READ_SHAREHOLDINGS: Final[LiteralString] = """
MATCH (a:Customer)-[r:HOLDS_SHARES]->(b:Customer)
RETURN a.customer_id AS src, b.customer_id AS dst, r.pct AS pct
"""

# One node per linkage, MERGEd on an id derived from its members; memberships replaced.
WRITE_LINKAGES: Final[LiteralString] = """
UNWIND $rows AS row
MERGE (l:RiskLinkage {linkage_id: row.linkage_id})
SET l += row.props, l.run_id = $run_id
WITH l, row
CALL (l) {
  MATCH (l)<-[old:MEMBER_OF]-()
  DELETE old
}
WITH l, row
UNWIND row.members AS member
MATCH (c:Customer {customer_id: member.customer_id})
MERGE (c)-[m:MEMBER_OF]->(l)
SET m.position = member.position, m.role = member.role
RETURN count(DISTINCT l) AS written
"""

# Linkages of this kind that the latest run did not find any more.
DELETE_STALE_LINKAGES: Final[LiteralString] = """
MATCH (l:RiskLinkage {kind: $kind})
WHERE l.run_id <> $run_id
DETACH DELETE l
RETURN count(*) AS written
"""

READ_SEGMENT_INPUTS: Final[LiteralString] = """
MATCH (c:Customer)
RETURN c.customer_id AS id, c.aum_minor AS aum, c.onboarded_at AS onboarded_at,
       c.last_active_at AS last_active_at
"""

GDS_VERSION: Final[LiteralString] = "RETURN gds.version() AS version"

# Relationship types the database knows (GDS refuses to project one it has never held).
RELATIONSHIP_TYPES: Final[LiteralString] = (
    "CALL db.relationshipTypes() YIELD relationshipType RETURN collect(relationshipType) AS types"
)

GDS_NODE_IDS: Final[LiteralString] = """
UNWIND $customer_ids AS customer_id
MATCH (c:Customer {customer_id: customer_id})
RETURN collect(id(c)) AS ids
"""


# --- community profiles ------------------------------------------------------------------------
def read_community_tiers(prop: str) -> LiteralString:
    checked = _checked(prop)
    return (
        f"MATCH (c:Customer) WHERE c.{checked} IS NOT NULL "
        f"RETURN c.{checked} AS community, coalesce(c.tier, 'UNKNOWN') AS key, count(*) AS n"
    )


def read_community_products(prop: str) -> LiteralString:
    checked = _checked(prop)
    return (
        f"MATCH (c:Customer)-[h:HOLDS]->(p:Product) WHERE c.{checked} IS NOT NULL "
        "AND coalesce(h.status, 'ACTIVE') <> 'CLOSED' "
        f"RETURN c.{checked} AS community, p.product_id AS key, count(DISTINCT c) AS n"
    )


def read_community_scenarios(prop: str) -> LiteralString:
    checked = _checked(prop)
    return (
        f"MATCH (c:Customer)-[:PARTICIPATES_IN]->(s:Scenario) WHERE c.{checked} IS NOT NULL "
        f"RETURN c.{checked} AS community, s.scenario_id AS key, count(DISTINCT c) AS n"
    )


WRITE_COMMUNITIES: Final[LiteralString] = """
UNWIND $rows AS row
MERGE (k:Community {community_id: row.community_id})
SET k = row, k.run_id = $run_id
RETURN count(k) AS written
"""

PROFILED_ALGORITHMS: Final[LiteralString] = """
MATCH (k:Community) WITH DISTINCT k.algorithm AS algorithm ORDER BY algorithm
RETURN collect(algorithm) AS algorithms
"""

# A profile refresh rewrites what the profile reads from tiers, holdings and scenarios; the
# structure (size, ties, central members) stays the community run's.
REFRESH_COMMUNITY_PROFILES: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (k:Community {community_id: row.community_id})
SET k += row.props, k.profile_run_id = $run_id
RETURN count(k) AS written
"""

DELETE_STALE_COMMUNITIES: Final[LiteralString] = """
MATCH (k:Community {algorithm: $algorithm})
WHERE k.run_id <> $run_id
DETACH DELETE k
"""


# --- referral ----------------------------------------------------------------------------------
READ_PRODUCT_IDS: Final[LiteralString] = """
MATCH (p:Product) WHERE $product_id IS NULL OR p.product_id = $product_id
WITH p.product_id AS id ORDER BY id
RETURN collect(id) AS ids
"""

# Holders: an active (or status-less) HOLDS; a CLOSED holding does not count.
READ_HOLDERS: Final[LiteralString] = """
MATCH (c:Customer)-[h:HOLDS]->(p:Product {product_id: $product_id})
WHERE coalesce(h.status, 'ACTIVE') <> 'CLOSED'
RETURN collect(DISTINCT c.customer_id) AS ids
"""

READ_SCENARIO_MEMBERS: Final[LiteralString] = """
MATCH (c:Customer)-[:PARTICIPATES_IN]->(:Scenario {scenario_id: $scenario_id})
RETURN collect(DISTINCT c.customer_id) AS ids
"""

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

READ_CONVERTED_REFERRALS: Final[LiteralString] = """
MATCH (a:Customer)-[r:REFERRED]->(b:Customer)
WHERE r.converted = true
RETURN collect(a.customer_id) AS src, collect(b.customer_id) AS dst
"""

READ_RM_BOOK: Final[LiteralString] = """
MATCH (c:Customer)-[:MANAGED_BY]->(:RelationshipManager {rm_id: $rm_id})
WITH c.customer_id AS id ORDER BY id
RETURN collect(id) AS ids
"""

CUSTOMERS_EXIST: Final[LiteralString] = """
UNWIND $ids AS id
OPTIONAL MATCH (c:Customer {customer_id: id})
RETURN collect(CASE WHEN c IS NULL THEN id END) AS missing
"""
