"""The effect read of a list version (issue 12, stage 2): every row with its arm, cluster,
outcome (loaded through the ``outcomes`` contract file) and the segment property asked for."""

from __future__ import annotations

from typing import Final, LiteralString

# Every row of the version, with the outcome recorded for its (treatment, customer), if any.
# $segment is a Customer property from graph.repositories.effects.SEGMENTS (never user text
# reaching the query text: it is a parameter).
EFFECT_ROWS: Final[LiteralString] = """
MATCH (v:ListVersion {list_version_id: $list_version_id})
OPTIONAL MATCH (v)-[row:LISTS]->(c:Customer)
OPTIONAL MATCH (v)-[o:OUTCOME {treatment: row.treatment}]->(c)
WITH v, row, c, o ORDER BY row.position
RETURN v.list_version_id AS list_version_id, v.holdout_share AS holdout_share,
       collect(CASE WHEN row IS NULL THEN NULL ELSE {
         customer_id: c.customer_id, treatment: row.treatment, cluster: row.cluster,
         outcome: o.outcome, pre_metric: o.pre_metric,
         segment: CASE WHEN $segment IS NULL THEN NULL ELSE toString(c[$segment]) END
       } END) AS rows
"""

# What referral attribution reads (graph.attribution): the version's window start, the
# introducers on its rows (in their reasons), its converted rows, and every referral on a
# chain of at most 8 hops ending at a converted customer (cycles and chains need them).
ATTRIBUTION_INPUTS: Final[LiteralString] = """
MATCH (v:ListVersion {list_version_id: $list_version_id})
CALL (v) {
  OPTIONAL MATCH (v)-[row:LISTS]->(:Customer)
  RETURN collect(row.reasons_json) AS reasons
}
CALL (v) {
  OPTIONAL MATCH (v)-[o:OUTCOME {outcome: 'CONVERTED'}]->(c:Customer)
  RETURN collect(CASE WHEN o IS NULL THEN NULL
                 ELSE {customer_id: c.customer_id, treatment: o.treatment, day: o.day} END)
         AS conversions
}
CALL (v) {
  OPTIONAL MATCH (v)-[:OUTCOME {outcome: 'CONVERTED'}]->(c:Customer)
  OPTIONAL MATCH p = (c)<-[:REFERRED*1..8]-(:Customer)
  UNWIND CASE WHEN p IS NULL THEN [NULL] ELSE relationships(p) END AS r
  WITH DISTINCT r WHERE r IS NOT NULL
  RETURN collect({referrer_id: startNode(r).customer_id, referee_id: endNode(r).customer_id,
                  referred_at: r.referred_at}) AS referrals
}
RETURN v.as_of AS as_of, reasons, conversions, referrals
"""
