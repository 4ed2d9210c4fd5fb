"""RiskLinkage nodes (guarantee circles, identifier rings, fund cycles, control groups) and
their ``MEMBER_OF`` memberships: written by the risk algorithms, read by the API."""

from __future__ import annotations

from typing import Final, LiteralString

from graph.queries.customers import per_customer
from graph.queries.ties import literal

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

LINKAGES_BY_CUSTOMERS: Final[LiteralString] = per_customer(
    "[m:MEMBER_OF]->(l:RiskLinkage)",
    "l, m",
    "l.kind, l.linkage_id",
    "linkage: l {.linkage_id, .kind, .subtype, .size}, role: m.role",
)

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
    order = literal(LINKAGE_ORDERS[order_by])
    return literal(f"""
MATCH (l:RiskLinkage {{kind: $kind}})
WHERE l.size >= $min_size AND l.size <= $max_size
WITH l ORDER BY {order}, l.linkage_id LIMIT $limit
RETURN l {{.*}} AS linkage,
       [(c:Customer)-[m:MEMBER_OF]->(l) | {{id: c.customer_id, position: m.position, role: m.role}}]
         AS members
""")


LINKAGE_BY_ID: Final[LiteralString] = """
MATCH (l:RiskLinkage {linkage_id: $linkage_id})
RETURN l {.*} AS linkage,
       [(c:Customer)-[m:MEMBER_OF]->(l) | {id: c.customer_id, position: m.position, role: m.role}]
         AS members
"""

GROUP_OF_CUSTOMER: Final[LiteralString] = """
MATCH (:Customer {customer_id: $customer_id})-[:MEMBER_OF]->(l:RiskLinkage {kind: 'CONTROL_GROUP'})
WITH l ORDER BY l.size DESC, l.linkage_id LIMIT 1
RETURN l {.*} AS linkage,
       [(c:Customer)-[m:MEMBER_OF]->(l) | {id: c.customer_id, position: m.position, role: m.role}]
         AS members
"""

# The guarantees of each circle, link by link in guarantee order (member i backs member i+1,
# the last backs the first), with their dates.
CIRCLE_LINKS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (l:RiskLinkage {linkage_id: id})
MATCH (a:Customer)-[ma:MEMBER_OF]->(l), (b:Customer)-[mb:MEMBER_OF]->(l)
WHERE mb.position = (ma.position + 1) % l.size
MATCH (a)-[r:GUARANTEES]->(b)
WITH id, ma.position AS position, a, b, r ORDER BY id, position
RETURN collect({id: id, src: a.customer_id, dst: b.customer_id,
                amount_minor: coalesce(r.amount_minor, 0), start: r.start, end: r.end}) AS rows
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
