"""Reading projections for the in-process engine and writing algorithm results back."""

from __future__ import annotations

from typing import Final, LiteralString

from graph.model import TieKind

# Node properties algorithms may write. Results are read by the API, never recomputed.
RESULT_PROPERTIES: Final[frozenset[str]] = frozenset(
    {
        "community_wcc",
        "community_louvain",
        "community_leiden",
        "community_label_propagation",
        "score_pagerank",
        "score_degree",
        "score_betweenness",
        "tier",
        "lifecycle_stage",
    }
)


def _checked(prop: str) -> LiteralString:
    if prop not in RESULT_PROPERTIES:
        raise ValueError(f"{prop!r} is not a result property an algorithm may write")
    return prop  # from the allow-list above


def read_ties(kinds: tuple[TieKind, ...]) -> LiteralString:
    """Customer–customer ties of the given kinds, with strength (1.0 when missing)."""
    types = "|".join(TieKind(kind).value for kind in kinds)
    return (
        f"MATCH (a:Customer)-[r:{types}]->(b:Customer) "
        "WHERE coalesce(r.strength, 1.0) >= $min_strength "
        "RETURN a.customer_id AS src, b.customer_id AS dst, coalesce(r.strength, 1.0) AS weight"
    )


READ_CUSTOMER_IDS: Final[LiteralString] = "MATCH (c:Customer) RETURN c.customer_id AS id"


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
RETURN id, gds.util.asNode(id).customer_id AS customer_id
"""


# --- risk linkages -----------------------------------------------------------------------------
READ_GUARANTEES: Final[LiteralString] = """
MATCH (a:Customer)-[r:GUARANTEES]->(b:Customer)
RETURN a.customer_id AS src, b.customer_id AS dst, r.amount AS amount
"""

READ_IDENTIFIER_USES: Final[LiteralString] = """
MATCH (c:Customer)-[:USES]->(i:Identifier)
RETURN c.customer_id AS customer, i.key AS identifier
"""

READ_TRANSFERS: Final[LiteralString] = """
MATCH (a:Customer)-[r:TRANSFERRED_TO]->(b:Customer)
RETURN a.customer_id AS src, b.customer_id AS dst, r.amount AS amount,
       r.at.epochMillis / 1000.0 AS at
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
RETURN c.customer_id AS id, c.aum AS aum, c.onboarded_at AS onboarded_at,
       c.last_active_at AS last_active_at
"""

GDS_VERSION: Final[LiteralString] = "RETURN gds.version() AS version"
