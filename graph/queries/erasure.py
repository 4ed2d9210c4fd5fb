"""Erasing one customer (PIPL art. 47): the person, what only they own, and every mention.

The repository (``graph/repositories/erasure.py``) runs these in one write transaction: the
mentions found by :data:`FIND_NODE_MENTIONS` / :data:`FIND_RELATIONSHIP_MENTIONS` rewritten
(the values are computed in Python, whole tokens only), the aggregates that counted the person
recounted, the customer and what hangs only on them deleted, and the :class:`Erasure` record
written. A mention is any string property, or string in a list property, that contains the id;
the scan reads every node and relationship, which is what "every derived trace" costs.
"""

from __future__ import annotations

from typing import Final, LiteralString

# Every string value (or list of strings) anywhere that contains the id in one of its $forms
# (as written, and escaped inside JSON): JSON reasons of list rows, introducer lists of
# referral targets, central members of communities, audit events… Properties in $kept hold the
# bank's values of another kind (a product id, a city) and are never mentions.
# The customer's own node and relationships are left out: they are deleted, not rewritten.
FIND_NODE_MENTIONS: Final[LiteralString] = """
MATCH (n)
WHERE NOT (n:Customer AND n.customer_id = $customer_id)
UNWIND keys(n) AS key
WITH n, key, n[key] AS value
WHERE NOT key IN $kept
  AND ((value IS :: STRING AND any(f IN $forms WHERE value CONTAINS f))
    OR (value IS :: LIST<ANY>
        AND any(x IN value WHERE x IS :: STRING AND any(f IN $forms WHERE x CONTAINS f))))
RETURN elementId(n) AS element, key, value
"""

FIND_RELATIONSHIP_MENTIONS: Final[LiteralString] = """
MATCH (a)-[r]->(b)
WHERE NOT (a:Customer AND a.customer_id = $customer_id)
  AND NOT (b:Customer AND b.customer_id = $customer_id)
UNWIND keys(r) AS key
WITH r, key, r[key] AS value
WHERE NOT key IN $kept
  AND ((value IS :: STRING AND any(f IN $forms WHERE value CONTAINS f))
    OR (value IS :: LIST<ANY>
        AND any(x IN value WHERE x IS :: STRING AND any(f IN $forms WHERE x CONTAINS f))))
RETURN elementId(r) AS element, key, value
"""

# The rewrites, each applied only if the value is still the one that was read (a concurrent
# write meanwhile is caught by the sweep that follows the commit).
REWRITE_NODE_MENTIONS: Final[LiteralString] = """
UNWIND $rewrites AS w
MATCH (n) WHERE elementId(n) = w.element AND n[w.key] = w.old
SET n[w.key] = w.new
RETURN count(*) AS written
"""

REWRITE_RELATIONSHIP_MENTIONS: Final[LiteralString] = """
UNWIND $rewrites AS w
MATCH ()-[r]->() WHERE elementId(r) = w.element AND r[w.key] = w.old
SET r[w.key] = w.new
RETURN count(*) AS written
"""

# Linkages, communities and list versions that counted the person: their sizes recounted, and
# how many erased members or rows they had kept on them (a list version stays immutable in what
# it says about everyone else; its row count no longer includes the erased person).
RECOUNT_AGGREGATES: Final[LiteralString] = """
MATCH (c:Customer {customer_id: $customer_id})
CALL (c) {
  MATCH (c)-[:MEMBER_OF]->(l:RiskLinkage)
  SET l.size = l.size - 1, l.erased_members = coalesce(l.erased_members, 0) + 1
  RETURN count(l) AS linkages
}
CALL (c) {
  MATCH (k:Community)
  WHERE c['community_' + k.algorithm] IS NOT NULL
    AND toString(c['community_' + k.algorithm]) = k.local_id
  SET k.size = k.size - 1, k.erased_members = coalesce(k.erased_members, 0) + 1
  RETURN count(k) AS communities
}
CALL (c) {
  MATCH (v:ListVersion)-[:LISTS]->(c)
  SET v.erased_rows = coalesce(v.erased_rows, 0) + 1
  RETURN count(v) AS list_versions
}
RETURN linkages + communities + list_versions AS written
"""

# What only the person owns: consents, opt-outs, complaints, contacts, and identifiers (phone,
# device, id number) nobody else uses. Shared identifiers stay: they are other people's too.
DELETE_OWNED: Final[LiteralString] = """
MATCH (c:Customer {customer_id: $customer_id})
CALL (c) {
  MATCH (c)-[:GAVE_CONSENT|OPTED_OUT|COMPLAINED|WAS_CONTACTED]->(owned)
  DETACH DELETE owned
  RETURN count(*) AS records
}
CALL (c) {
  MATCH (c)-[:USES]->(i:Identifier)
  WHERE NOT EXISTS { MATCH (i)<-[:USES]-(other) WHERE other <> c }
  DETACH DELETE i
  RETURN count(*) AS identifiers
}
RETURN records + identifiers AS written
"""

# Linkages left with fewer than two members are no linkage any more.
DELETE_EMPTIED_LINKAGES: Final[LiteralString] = """
MATCH (l:RiskLinkage)
WHERE l.erased_members IS NOT NULL AND l.size < 2
DETACH DELETE l
RETURN count(*) AS written
"""

DELETE_EMPTIED_COMMUNITIES: Final[LiteralString] = """
MATCH (k:Community)
WHERE k.erased_members IS NOT NULL AND k.size < 1
DETACH DELETE k
RETURN count(*) AS written
"""

DELETE_CUSTOMER: Final[LiteralString] = """
MATCH (c:Customer {customer_id: $customer_id})
DETACH DELETE c
RETURN count(*) AS written
"""

RECORD_ERASURE: Final[LiteralString] = """
CREATE (e:Erasure)
SET e = $props
RETURN count(e) AS written
"""

RECORD_ERASURE_COUNTS: Final[LiteralString] = """
MATCH (e:Erasure {erasure_id: $props.erasure_id})
SET e = $props
RETURN count(e) AS written
"""

READ_ERASURE: Final[LiteralString] = """
MATCH (e:Erasure {subject_sha256: $subject_sha256})
RETURN e {.*} AS erasure
ORDER BY e.erased_at
LIMIT 1
"""

LIST_ERASURES: Final[LiteralString] = """
MATCH (e:Erasure)
RETURN e {.*} AS erasure
ORDER BY e.erased_at DESC
LIMIT $limit
"""

ERASED_PSEUDONYMS: Final[LiteralString] = """
MATCH (e:Erasure)
RETURN e.subject_sha256 AS pseudonym, min(e.erasure_id) AS erasure_id
"""

CUSTOMER_EXISTS: Final[LiteralString] = """
MATCH (c:Customer {customer_id: $customer_id})
RETURN c.customer_id AS customer_id
"""
