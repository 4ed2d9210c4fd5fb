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
    return literal(f"""
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
    """What each neighbour passes to a customer's PageRank: its score × tie strength / its
    total (``contribution``, PageRank mass before damping), and that as a fraction of what
    all the customer's neighbours pass (``share``, 0–1, summing to 1 over every neighbour).

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
WITH id, collect({{neighbour: neighbour, contribution: contribution}}) AS found,
     sum(contribution) AS inflow
UNWIND found AS f
RETURN collect({{id: id, neighbour: f.neighbour, contribution: f.contribution,
                share: CASE WHEN inflow > 0 THEN f.contribution / inflow ELSE 0.0 END}}) AS rows
""")


def guarantees_around(hops: int) -> LiteralString:
    """Every guarantee in force on $as_of within ``hops`` of a customer, either direction,
    reached through guarantees in force (ended ones are history, not exposure)."""
    if not 1 <= hops <= 4:
        raise ValueError("hops must be between 1 and 4")
    return literal(f"""
MATCH (c:Customer {{customer_id: $customer_id}})
MATCH (c)-[rels:GUARANTEES*1..{hops}]-(:Customer)
WHERE all(r IN rels WHERE coalesce(r.start <= $as_of, true)
                      AND (r.end IS NULL OR r.end >= $as_of))
UNWIND rels AS r
WITH DISTINCT r LIMIT $limit
RETURN startNode(r).customer_id AS src, endNode(r).customer_id AS dst,
       coalesce(r.amount_minor, 0) AS amount_minor, r.start AS start, r.end AS end
""")
