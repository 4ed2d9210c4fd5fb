"""Community nodes: the profile of each community of a stored partition, and its members.

A member is a customer whose ``community_<algorithm>`` property holds the community's
``local_id``; property names come from :mod:`graph.results`.
"""

from __future__ import annotations

from typing import Final, LiteralString

from graph.queries.ties import literal
from graph.results import checked_property


def _tally(
    prop: str, match: LiteralString, key: LiteralString, n: LiteralString, also: LiteralString = ""
) -> LiteralString:
    """Per community of the partition in ``prop``: how many members (``n``) have each ``key``,
    over the customers ``c`` of ``match`` (and ``also``): the rows of a profile's mixes."""
    checked = checked_property(prop)
    return literal(
        f"MATCH {match} WHERE c.{checked} IS NOT NULL {also}"
        f"RETURN c.{checked} AS community, {key} AS key, {n} AS n"
    )


def read_community_tiers(prop: str) -> LiteralString:
    return _tally(prop, "(c:Customer)", "coalesce(c.tier, 'UNKNOWN')", "count(*)")


def read_community_products(prop: str) -> LiteralString:
    return _tally(
        prop,
        "(c:Customer)-[h:HOLDS]->(p:Product)",
        "p.product_id",
        "count(DISTINCT c)",
        also="AND coalesce(h.status, 'ACTIVE') <> 'CLOSED' ",
    )


def read_community_scenarios(prop: str) -> LiteralString:
    return _tally(
        prop, "(c:Customer)-[:PARTICIPATES_IN]->(s:Scenario)", "s.scenario_id", "count(DISTINCT c)"
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

# Community profiles count tiers, holdings and scenario members: a load that changed any of
# them leaves the profiles describing the graph before it, until they are recomputed.
MARK_COMMUNITIES_STALE: Final[LiteralString] = """
MATCH (k:Community)
SET k.stale = true, k.stale_reason = $reason, k.stale_since = $at
RETURN count(k) AS marked
"""

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


def community_members(prop: str) -> LiteralString:
    """A page of members (keyset by id) for each of several communities of one algorithm."""
    checked = checked_property(prop)
    return literal(f"""
UNWIND $pages AS page
CALL (page) {{
  MATCH (c:Customer) WHERE c.{checked} = page.local_id AND c.customer_id > page.after
  WITH c.customer_id AS id ORDER BY id
  WITH page, collect(id) AS ids
  RETURN ids[..page.limit] AS ids
}}
RETURN collect({{key: page.key, ids: ids}}) AS rows
""")
