"""Read-side Cypher for the explorer page: bulk neighbourhoods, expansions, linkage drawings.

The explorer draws views of up to 20,000 customers, so a neighbourhood is read breadth first,
one hop per statement (a frontier in, its neighbours out), instead of the variable-length
pattern of ``connections``, whose path enumeration grows with the paths, not the customers.
Labels, relationship types and property names come from enums and allow-lists only; every
value travels as a parameter. Money comes back as stored, in integer minor units.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, LiteralString

from graph.model import RelType, RiskLinkageKind, TieKind
from graph.queries.ties import literal, tie_types
from graph.results import checked_property


def frontier(kinds: Sequence[TieKind]) -> LiteralString:
    """The customers tied to any of ``$ids`` (ties of at least ``$min_strength``)."""
    types = tie_types(kinds)
    return literal(f"""
UNWIND $ids AS id
MATCH (:Customer {{customer_id: id}})-[r:{types}]-(n:Customer)
WHERE coalesce(r.strength, 1.0) >= $min_strength
RETURN collect(DISTINCT n.customer_id) AS ids
""")


# Rows of the bulk reads are lists, not maps, and dates come as ISO text: for 20,000
# customers the driver's decoding of maps and Date values is most of the request's time.
def ties_among(kinds: Sequence[TieKind]) -> LiteralString:
    """Every tie between two of ``$ids``, each relationship once as stored (src → dst):
    ``[src, dst, kind, strength, since]``."""
    types = tie_types(kinds)
    return literal(f"""
UNWIND $ids AS id
MATCH (a:Customer {{customer_id: id}})-[r:{types}]->(b:Customer)
WHERE b.customer_id IN $ids AND coalesce(r.strength, 1.0) >= $min_strength
RETURN collect([id, b.customer_id, type(r), r.strength, toString(r.since)]) AS rows
""")


def drawn_customers(community_property: str, score_property: str) -> LiteralString:
    """What a drawn customer needs: ``[id, kind, name, rm_id, community, score]`` per id."""
    community = checked_property(community_property)
    score = checked_property(score_property)
    return literal(f"""
UNWIND $ids AS id
MATCH (c:Customer {{customer_id: id}})
OPTIONAL MATCH (c)-[:MANAGED_BY]->(rm:RelationshipManager)
RETURN collect([id, c.kind, c.name, rm.rm_id, c.{community}, c.{score}]) AS rows
""")


def ties_touching(kinds: Sequence[TieKind]) -> LiteralString:
    """Ties between one of ``$ids`` and one of ``$among`` (either direction, each once)."""
    types = tie_types(kinds)
    return literal(f"""
UNWIND $ids AS id
MATCH (a:Customer {{customer_id: id}})-[r:{types}]-(b:Customer)
WHERE b.customer_id IN $among AND coalesce(r.strength, 1.0) >= $min_strength
WITH DISTINCT r
RETURN collect([startNode(r).customer_id, endNode(r).customer_id, type(r), r.strength,
                toString(r.since)]) AS rows
""")


def strongest_neighbours(kinds: Sequence[TieKind]) -> LiteralString:
    """A customer's neighbours, strongest tie first (then id): a page of them and how many."""
    types = tie_types(kinds)
    return literal(f"""
MATCH (c:Customer {{customer_id: $customer_id}})-[r:{types}]-(n:Customer)
WHERE n <> c AND coalesce(r.strength, 1.0) >= $min_strength
WITH n, max(coalesce(r.strength, 1.0)) AS strength
ORDER BY strength DESC, n.customer_id
WITH collect({{id: n.customer_id, strength: strength}}) AS found
RETURN size(found) AS total, found[$offset..$offset + $limit] AS page
""")


def strongest_ties(kinds: Sequence[TieKind]) -> LiteralString:
    """For each pair of ``$pairs`` (``{a, b}``), its strongest tie, if any."""
    types = tie_types(kinds)
    return literal(f"""
UNWIND $pairs AS pair
MATCH (a:Customer {{customer_id: pair.a}})-[r:{types}]-(b:Customer {{customer_id: pair.b}})
WITH pair, r ORDER BY coalesce(r.strength, 1.0) DESC
WITH pair, collect(r)[0] AS r
RETURN collect([startNode(r).customer_id, endNode(r).customer_id, type(r), r.strength,
                toString(r.since)]) AS rows
""")


# The relationships among a linkage's members that draw it, by linkage kind.
LINKAGE_RELATIONSHIPS: Final[dict[str, RelType]] = {
    RiskLinkageKind.GUARANTEE_CIRCLE.value: RelType.GUARANTEES,
    RiskLinkageKind.FUND_CYCLE.value: RelType.TRANSFERRED_TO,
    RiskLinkageKind.CONTROL_GROUP.value: RelType.HOLDS_SHARES,
}


LINKAGE: Final[LiteralString] = """
MATCH (l:RiskLinkage {linkage_id: $linkage_id})
RETURN l {.*} AS linkage,
       [(c:Customer)-[m:MEMBER_OF]->(l) | {id: c.customer_id, position: m.position, role: m.role}]
         AS members
"""


def linkage_edges(kind: str) -> LiteralString:
    """The relationships among ``$ids`` (a linkage's members) that draw a linkage of ``kind``."""
    rel = LINKAGE_RELATIONSHIPS[kind].value  # KeyError for anything not allow-listed
    return literal(f"""
UNWIND $ids AS id
MATCH (a:Customer {{customer_id: id}})-[r:{rel}]->(b:Customer)
WHERE b.customer_id IN $ids
WITH a, b, r ORDER BY coalesce(r.at, r.start), a.customer_id, b.customer_id
RETURN collect({{src: a.customer_id, dst: b.customer_id, amount_minor: r.amount_minor,
                pct: r.pct, at: coalesce(r.at, r.start)}})[..$limit] AS rows
""")


# Identifiers used by at least two of ``$ids`` (a ring's members): keys, never raw values.
SHARED_IDENTIFIERS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (:Customer {customer_id: id})-[:USES]->(i:Identifier)
WITH i, collect(DISTINCT id) AS users
WHERE size(users) >= 2
WITH i, users ORDER BY size(users) DESC, i.key
RETURN collect({key: i.key, kind: i.kind, users: users})[..$limit] AS rows
"""
