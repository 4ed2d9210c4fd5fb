"""Campaigns, the facts suppression reads, and immutable list versions with their rows and
suppressions (issue 12).

Suppression reads one set of facts per customer (:func:`suppression_facts`), the same when a
list is drawn and again when it is exported; the risk flag and the product eligibility are
the fragments of :mod:`graph.queries.screens`, never restated.
"""

from __future__ import annotations

from typing import Final, LiteralString

from graph.queries.screens import (
    RiskFlagRule,
    Var,
    may_contact,
    product_eligible,
    risk_flag_reasons,
)
from graph.queries.ties import literal, tie_types
from graph.results import community_property

CREATE_CAMPAIGN: Final[LiteralString] = """
OPTIONAL MATCH (existing:Campaign {campaign_id: $campaign_id})
WITH existing WHERE existing IS NULL
CREATE (k:Campaign {campaign_id: $campaign_id})
SET k += $props
RETURN k {.*} AS campaign
"""

READ_CAMPAIGN: Final[LiteralString] = """
MATCH (k:Campaign {campaign_id: $campaign_id})
RETURN k {.*} AS campaign
"""

LIST_CAMPAIGNS: Final[LiteralString] = """
MATCH (k:Campaign)
WITH k ORDER BY k.campaign_id LIMIT $limit
RETURN collect(k {.*}) AS campaigns
"""


def suppression_facts(rule: RiskFlagRule) -> LiteralString:
    """Projection items: what suppression decides on, for customer ``c`` and product ``p``.

    Parameters: ``$purpose``, ``$channel``, ``$as_of``, ``$cap_since`` (contacts after it and
    on or before ``$as_of`` count towards the cap: a sliding window), ``$complaint_since``,
    and the risk rule's parameters.
    """
    return literal(f"""
       {risk_flag_reasons("c", rule)} AS risk_flags,
       {product_eligible("c", "p")} AS eligible,
       EXISTS {{ MATCH (c)-[h:HOLDS]->(p) WHERE coalesce(h.status, 'ACTIVE') <> 'CLOSED' }}
         AS holds,
       c.consent_marketing AS consent_marketing,
       COLLECT {{ MATCH (c)-[:GAVE_CONSENT]->(g:Consent)
                  WHERE g.purpose = $purpose AND g.channel = $channel AND g.day <= $as_of
                  RETURN g.status ORDER BY g.day DESC, g.consent_id DESC LIMIT 1 }} AS consent,
       EXISTS {{ MATCH (c)-[:OPTED_OUT]->(o:OptOut)
                 WHERE o.day <= $as_of AND (o.channel IS NULL OR o.channel = $channel) }}
         AS opted_out,
       EXISTS {{ MATCH (c)-[:COMPLAINED]->(x:Complaint)
                 WHERE x.day <= $as_of AND x.day > $complaint_since }} AS complained,
       COUNT {{ MATCH (c)-[:WAS_CONTACTED]->(m:Contact)
                WHERE m.day <= $as_of AND m.day > $cap_since }} AS recent_contacts,
       [l IN COLLECT {{ MATCH (c)-[:GAVE_CONSENT|OPTED_OUT|COMPLAINED|WAS_CONTACTED]->(r)
                        RETURN DISTINCT r.crkg_load_id }} + [c.crkg_load_id, p.crkg_load_id]
        WHERE l IS NOT NULL] AS load_ids""")


def contactable(var: Var, rule: RiskFlagRule) -> LiteralString:
    """A predicate: ``var`` (an introducer or someone on the path) passes the same screen as
    a target, but for the product's own rules: ``may_contact``, no withdrawn latest consent
    for ($purpose, $channel), no opt-out, no complaint in the window, under the contact cap
    ($max_contacts in the window)."""
    return literal(f"""({may_contact(var, rule)}
  AND coalesce(head(COLLECT {{ MATCH ({var})-[:GAVE_CONSENT]->(sg:Consent)
         WHERE sg.purpose = $purpose AND sg.channel = $channel AND sg.day <= $as_of
         RETURN sg.status ORDER BY sg.day DESC, sg.consent_id DESC LIMIT 1 }}), 'GRANTED')
      = 'GRANTED'
  AND NOT EXISTS {{ MATCH ({var})-[:OPTED_OUT]->(so:OptOut)
         WHERE so.day <= $as_of AND (so.channel IS NULL OR so.channel = $channel) }}
  AND NOT EXISTS {{ MATCH ({var})-[:COMPLAINED]->(sx:Complaint)
         WHERE sx.day <= $as_of AND sx.day > $complaint_since }}
  AND COUNT {{ MATCH ({var})-[:WAS_CONTACTED]->(sm:Contact)
         WHERE sm.day <= $as_of AND sm.day > $cap_since }} < $max_contacts)""")


def read_candidates(rule: RiskFlagRule) -> LiteralString:
    """The stored referral targets of ($product_id, $scenario_key), best first, each with its
    suppression facts and its introducers screened by the one ``may_contact`` rule."""
    return literal(f"""
MATCH (p:Product {{product_id: $product_id}})
MATCH (c:Customer)-[t:REFERRAL_TARGET {{scenario_id: $scenario_key}}]->(p)
WITH p, c, t ORDER BY t.rank, c.customer_id LIMIT $max_candidates
RETURN c.customer_id AS id, t {{.*}} AS target,
       c.community_louvain AS community, c.community_louvain_run_id AS community_run_id,
       [i IN coalesce(t.introducer_ids, []) WHERE EXISTS {{
          MATCH (x:Customer {{customer_id: i}}) WHERE {contactable("x", rule)} }}]
         AS introducers_ok,
       [i IN coalesce(t.intermediary_ids, []) WHERE NOT EXISTS {{
          MATCH (x:Customer {{customer_id: i}}) WHERE {contactable("x", rule)} }}]
         AS intermediaries_barred,
       {suppression_facts(rule)}
ORDER BY t.rank, id
""")


def read_export_facts(rule: RiskFlagRule) -> LiteralString:
    """Suppression facts of the customers in $ids for product $product_id (the export's
    second screen), with whether each row's introducer and everyone on its path may still be
    contacted (``row.people``)."""
    return literal(f"""
MATCH (p:Product {{product_id: $product_id}})
UNWIND $rows AS row
MATCH (c:Customer {{customer_id: row.customer_id}})
RETURN c.customer_id AS id,
       all(i IN row.people WHERE EXISTS {{
         MATCH (x:Customer {{customer_id: i}}) WHERE {contactable("x", rule)} }})
         AS introducer_ok,
       {suppression_facts(rule)}
""")


READ_VERSION_BY_HASH: Final[LiteralString] = """
MATCH (:Campaign {campaign_id: $campaign_id})-[:HAS_VERSION]->(v:ListVersion)
WHERE v.content_hash = $content_hash
RETURN v {.*} AS version
"""

NEXT_VERSION: Final[LiteralString] = """
OPTIONAL MATCH (:Campaign {campaign_id: $campaign_id})-[:HAS_VERSION]->(v:ListVersion)
RETURN coalesce(max(v.version), 0) + 1 AS next
"""

CREATE_LIST_VERSION: Final[LiteralString] = """
MATCH (k:Campaign {campaign_id: $campaign_id})
CREATE (k)-[:HAS_VERSION]->(v:ListVersion)
SET v = $props
RETURN count(v) AS written
"""

WRITE_LIST_ROWS: Final[LiteralString] = """
MATCH (v:ListVersion {list_version_id: $list_version_id})
UNWIND $rows AS row
MATCH (c:Customer {customer_id: row.customer_id})
CREATE (v)-[r:LISTS]->(c)
SET r.position = row.position, r.treatment = row.treatment, r.reasons_json = row.reasons_json,
    r.cluster = row.cluster, r.cross_arm = row.cross_arm, r.cross_arm_share = row.cross_arm_share
RETURN count(r) AS written
"""

WRITE_SUPPRESSIONS: Final[LiteralString] = """
MATCH (v:ListVersion {list_version_id: $list_version_id})
UNWIND $rows AS row
MATCH (c:Customer {customer_id: row.customer_id})
CREATE (v)-[r:SUPPRESSES]->(c)
SET r.codes = row.codes, r.risk_flags = row.risk_flags, r.position = row.position
RETURN count(r) AS written
"""

READ_LIST_VERSION: Final[LiteralString] = """
MATCH (v:ListVersion {list_version_id: $list_version_id})
RETURN v {.*} AS version
"""

LIST_VERSIONS: Final[LiteralString] = """
MATCH (:Campaign {campaign_id: $campaign_id})-[:HAS_VERSION]->(v:ListVersion)
WITH v ORDER BY v.version
RETURN collect(v {.*}) AS versions
"""

# An RM ($rm_id set) reads the rows of the customers they manage only.
READ_LIST_ROWS: Final[LiteralString] = """
MATCH (v:ListVersion {list_version_id: $list_version_id})-[r:LISTS]->(c:Customer)
WHERE $rm_id IS NULL OR EXISTS {
  MATCH (c)-[:MANAGED_BY]->(:RelationshipManager {rm_id: $rm_id}) }
WITH c, r ORDER BY r.position LIMIT $limit
RETURN collect({customer_id: c.customer_id, position: r.position, treatment: r.treatment,
                reasons_json: r.reasons_json, cluster: r.cluster, cross_arm: r.cross_arm,
                cross_arm_share: r.cross_arm_share}) AS rows
"""


def holdout_ties(prop: str) -> LiteralString:
    """The hold-out's ties (graph.holdout): inside each community of the partition ``prop``
    in $communities (every customer of it, listed or not: its induced subgraph, to split it),
    and between the customers in $ids."""
    k = community_property(prop)
    return literal(f"""
CALL () {{
  MATCH (a:Customer)-[r:{tie_types([])}]-(b:Customer)
  WHERE a.{k} IS NOT NULL AND toString(a.{k}) IN $communities
    AND b.{k} = a.{k} AND a.customer_id < b.customer_id
  RETURN collect([toString(a.{k}), a.customer_id, b.customer_id,
                  coalesce(r.strength, 1.0)]) AS inside
}}
CALL () {{
  UNWIND $ids AS id
  MATCH (a:Customer {{customer_id: id}})-[:{tie_types([])}]-(b:Customer)
  WHERE b.customer_id IN $ids AND a.customer_id < b.customer_id
  RETURN collect(DISTINCT [a.customer_id, b.customer_id]) AS between
}}
RETURN inside, between
""")


def holdout_communities(prop: str) -> LiteralString:
    """Each customer in $ids with their community in the partition ``prop`` and its run."""
    k = community_property(prop)
    return literal(f"""
UNWIND $ids AS id
MATCH (c:Customer {{customer_id: id}})
RETURN collect([id, toString(c.{k}), c.{k}_run_id]) AS rows
""")


READ_SUPPRESSIONS: Final[LiteralString] = """
MATCH (v:ListVersion {list_version_id: $list_version_id})-[r:SUPPRESSES]->(c:Customer)
WHERE ($customer_id IS NULL OR c.customer_id = $customer_id)
  AND ($rm_id IS NULL OR EXISTS {
    MATCH (c)-[:MANAGED_BY]->(:RelationshipManager {rm_id: $rm_id}) })
WITH c, r ORDER BY r.position LIMIT $limit
RETURN collect({customer_id: c.customer_id, position: r.position, codes: r.codes,
                risk_flags: r.risk_flags}) AS rows
"""

# Maker-checker: only a subject other than the one who drew it approves a version, once.
APPROVE_LIST_VERSION: Final[LiteralString] = """
MATCH (v:ListVersion {list_version_id: $list_version_id})
WHERE v.approved_by IS NULL AND v.drawn_by <> $subject
SET v.approved_by = $subject, v.approved_at = $at
RETURN count(v) AS written
"""

READ_CONTACT_DETAILS: Final[LiteralString] = """
UNWIND $ids AS id
MATCH (c:Customer {customer_id: id})
RETURN collect({customer_id: id, name: c.name, phone: c.phone, email: c.email}) AS rows
"""

CAMPAIGN_REFERENCES: Final[LiteralString] = """
RETURN EXISTS { MATCH (:Product {product_id: $product_id}) } AS product,
       $scenario_id IS NULL OR EXISTS { MATCH (:Scenario {scenario_id: $scenario_id}) }
         AS scenario
"""
