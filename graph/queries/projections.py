"""What algorithms read of the graph: scoped customer sets, tie pages, the edges of the risk
searches, and the GDS projection's Cypher.

Large reads return a few records of collected lists instead of one record per row: the
driver's per-record cost dominated (500k ties: 25 s as records through the async driver, 1.5 s
as lists in pages of 20,000 customers; see ``bench/algorithms_read.py``).

A scope restricts customers (scenario participants, a community, a branch) and ties (their
``since`` inside a window). Predicates are built from flags and allow-listed property names;
the values travel as ``$scope_*`` parameters.
"""

from __future__ import annotations

from typing import Final, Literal, LiteralString

from graph.model import TieKind
from graph.queries.ties import literal, tie_types
from graph.results import community_property


def customer_predicate(
    var: Literal["a", "b", "c"],
    *,
    scenario: bool = False,
    branch: bool = False,
    community_property_name: str | None = None,
) -> LiteralString:
    """`true`, or the conjunction of the scope's conditions on customer variable ``var``.

    >>> customer_predicate("c", branch=True)
    'c.branch_id = $scope_branch_id'
    """
    parts: list[LiteralString] = []
    if scenario:
        parts.append(
            f"EXISTS {{ ({var})-[:PARTICIPATES_IN]->"
            "(:Scenario {scenario_id: $scope_scenario_id}) }"
        )
    if branch:
        parts.append(f"{var}.branch_id = $scope_branch_id")
    if community_property_name is not None:
        checked = community_property(community_property_name)
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


def _scoped_ties(
    kinds: tuple[TieKind, ...], target: LiteralString, window: LiteralString
) -> LiteralString:
    """The ties ``r`` of ``kinds`` from ``a`` to a customer ``b`` that an algorithm reads: at
    least ``$min_strength`` (1.0 when missing), ``b`` in the scope, ``since`` in the window.
    Both engines read through it (the paged read and the GDS projection), so they see the
    same graph."""
    return (
        f"(a)-[r:{tie_types(kinds)}]->(b:Customer) "
        f"WHERE coalesce(r.strength, 1.0) >= $min_strength AND {target} AND {window}"
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
    return (
        f"MATCH (a:Customer) WHERE a.customer_id >= $lo AND ($hi IS NULL OR a.customer_id < $hi) "
        f"AND {source} "
        f"MATCH {_scoped_ties(kinds, target, window)} "
        "RETURN collect(a.customer_id) AS src, collect(b.customer_id) AS dst, "
        "collect(coalesce(r.strength, 1.0)) AS weight"
    )


def read_ties_per_record(kinds: tuple[TieKind, ...]) -> LiteralString:
    """Every tie as one record: the read before paging, which ``bench/algorithms_read.py``
    measures the paged read against."""
    return (
        f"MATCH (a:Customer)-[r:{tie_types(kinds)}]->(b:Customer) "
        "WHERE coalesce(r.strength, 1.0) >= $min_strength "
        "RETURN a.customer_id AS src, b.customer_id AS dst, coalesce(r.strength, 1.0) AS weight"
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
    return literal(
        f"MATCH (a:Customer) WHERE {source} "
        f"OPTIONAL MATCH {_scoped_ties(kinds, target, window)} "
        "WITH a, b, coalesce(r.strength, 1.0) AS strength "
        "RETURN gds.graph.project($graph_name, a, b, "
        "{relationshipProperties: {strength: strength}}, "
        "{undirectedRelationshipTypes: ['*']}) AS projected"
    )


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

GDS_NODE_KEYS: Final[LiteralString] = """
UNWIND $ids AS id
RETURN collect(id) AS ids, collect(gds.util.asNode(id).customer_id) AS customer_ids
"""

# --- the edges of the risk searches and cascades ---------------------------------------------
# Only guarantees in force on $as_of: started by then and not ended before that day (an open
# `end` runs until released); ended guarantees are history, not exposure.
READ_GUARANTEE_COLUMNS: Final[LiteralString] = """
MATCH (a:Customer)-[r:GUARANTEES]->(b:Customer)
WHERE coalesce(r.start <= $as_of, true) AND (r.end IS NULL OR r.end >= $as_of)
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

READ_CONVERTED_REFERRALS: Final[LiteralString] = """
MATCH (a:Customer)-[r:REFERRED]->(b:Customer)
WHERE r.converted = true
RETURN collect(a.customer_id) AS src, collect(b.customer_id) AS dst
"""
