"""Social ties between customers and the guarantee network, as the API reads them.

Labels and relationship types come from the model's enums; hop counts are validated ints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import LiteralString

from graph.model import TieKind


def literal(text: str) -> LiteralString:
    """``text`` as a statement: only enum values, allow-listed property names, fixed variable
    names and validated ints are ever formatted into it (mypy treats LiteralString as str)."""
    return text


def tie_types(kinds: Sequence[TieKind]) -> LiteralString:
    """``FAMILY|FRIEND…`` from the enum, each kind once (every kind when empty).

    >>> tie_types([TieKind.FRIEND, TieKind.FAMILY, TieKind.FRIEND])
    'FRIEND|FAMILY'
    """
    chosen = tuple(kinds) or tuple(TieKind)
    return literal("|".join(TieKind(kind).value for kind in dict.fromkeys(chosen)))


def neighbourhood(kinds: Sequence[TieKind], depth: int) -> LiteralString:
    """Customers within ``depth`` ties (nearest first), then the ties among all of them."""
    if not 1 <= depth <= 3:
        raise ValueError("depth must be 1, 2 or 3")
    types = tie_types(kinds)
    return literal(f"""
MATCH (c:Customer {{customer_id: $customer_id}})
OPTIONAL MATCH path = (c)-[rels:{types}*1..{depth}]-(n:Customer)
WHERE n <> c AND all(r IN rels WHERE coalesce(r.strength, 1.0) >= $min_strength)
WITH c, n, min(length(path)) AS hop
ORDER BY hop, n.customer_id
WITH c, collect({{node: n, hop: hop}})[..$limit] AS found
WITH c, [x IN found WHERE x.node IS NOT NULL] AS found
WITH c, found, [c] + [x IN found | x.node] AS members
CALL (members) {{
  UNWIND members AS a
  MATCH (a)-[r:{types}]->(b:Customer)
  WHERE b IN members AND coalesce(r.strength, 1.0) >= $min_strength
  RETURN collect({{src: a.customer_id, dst: b.customer_id, kind: type(r),
                  strength: r.strength, since: r.since}}) AS ties
}}
RETURN [x IN found | {{id: x.node.customer_id, hop: x.hop}}] AS nodes, ties
""")


def prospect_two_ties_from_book() -> LiteralString:
    """A customer outside an RM's book, two ties from it (the demo's referral-path example)."""
    types = tie_types(())
    return literal(f"""
MATCH (:RelationshipManager {{rm_id: $rm_id}})<-[:MANAGED_BY]-(:Customer)
      -[:{types}]-(:Customer)-[:{types}]-(p:Customer)
WHERE NOT (p)-[:MANAGED_BY]->(:RelationshipManager {{rm_id: $rm_id}})
RETURN p.customer_id AS id ORDER BY id LIMIT 1
""")


def pagerank_contributions(kinds: Sequence[TieKind]) -> LiteralString:
    """Each neighbour's share of a customer's PageRank: its score × tie strength / its total.

    This is the last power-iteration step of weighted PageRank read backwards, so the shares
    say which ties carry the customer's influence.
    """
    types = tie_types(kinds)
    return literal(f"""
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


def guarantees_around(hops: int) -> LiteralString:
    """Every guarantee within ``hops`` of a customer, either direction."""
    if not 1 <= hops <= 4:
        raise ValueError("hops must be between 1 and 4")
    return literal(f"""
MATCH (c:Customer {{customer_id: $customer_id}})
MATCH (c)-[rels:GUARANTEES*1..{hops}]-(:Customer)
UNWIND rels AS r
WITH DISTINCT r LIMIT $limit
RETURN startNode(r).customer_id AS src, endNode(r).customer_id AS dst,
       coalesce(r.amount_minor, 0) AS amount_minor
""")
