"""Batched, idempotent writes of bank exports (one builder per shape, names from enums only).

Every written node and relationship carries ``crkg_row_hash`` (a hash of the properties the
row carries), ``crkg_load_id`` and ``crkg_loaded_at``. A row whose hash equals the stored one
is left untouched, so loading the same export twice changes nothing at all, while a changed
row is updated in place and stamped with the load that changed it.

Each statement returns ``written`` (rows that matched or created their target) and ``changed``
(rows that actually set something); the loader checks ``written`` equals the batch size so a
row can never disappear silently.
"""

from __future__ import annotations

from typing import Final, Literal, LiteralString

from graph.targets import NodeTarget, RelationshipTarget

# The properties every load stamps: a hash of what the row wrote, the load, the instant.
BOOKKEEPING_PROPERTIES: Final[frozenset[str]] = frozenset(
    {"crkg_row_hash", "crkg_load_id", "crkg_loaded_at"}
)

WriteKind = Literal[
    "upsert_nodes", "delete_nodes", "link", "upsert_rels", "delete_rels", "upsert_uses",
    "delete_uses",
]  # fmt: skip


def _literal(text: str) -> LiteralString:
    # Every piece formatted into these statements comes from NodeLabel / RelType / the fixed
    # property names above, never from input rows: that is what makes the cast sound.
    return text  # mypy treats LiteralString as str; pyright would check this boundary


def _provenance(var: str) -> str:
    return (
        f"{var}.crkg_row_hash = row.hash, {var}.crkg_load_id = $load_id, "
        f"{var}.crkg_loaded_at = $loaded_at"
    )


def upsert_nodes(target: NodeTarget) -> LiteralString:
    """MERGE nodes on their key; set the row's properties only when they changed."""
    return _literal(f"""
UNWIND $rows AS row
MERGE (n:{target.label.value} {{{target.key_property}: row.key}})
WITH n, row, coalesce(n.crkg_row_hash, '') <> row.hash AS changed
FOREACH (_ IN CASE WHEN changed THEN [1] ELSE [] END |
  SET n += row.props, {_provenance("n")})
RETURN count(n) AS written, sum(CASE WHEN changed THEN 1 ELSE 0 END) AS changed
""")


def delete_nodes(target: NodeTarget) -> LiteralString:
    """DETACH DELETE nodes by key; a key that is already gone counts as written."""
    return _literal(f"""
UNWIND $rows AS row
OPTIONAL MATCH (n:{target.label.value} {{{target.key_property}: row.key}})
WITH row, n, n IS NOT NULL AS changed
DETACH DELETE n
RETURN count(row) AS written, sum(CASE WHEN changed THEN 1 ELSE 0 END) AS changed
""")


def _endpoints(rel: RelationshipTarget) -> str:
    return (
        f"MATCH (a:{rel.source.label.value} {{{rel.source.key_property}: row.src}})\n"
        f"MATCH (b:{rel.target.label.value} {{{rel.target.key_property}: row.dst}})"
    )


def _merge_pattern(rel: RelationshipTarget) -> str:
    keys = ", ".join(f"{p}: row.props.{p}" for p in rel.merge_properties)
    return f"(a)-[r:{rel.rel_type.value}{' {' + keys + '}' if keys else ''}]->(b)"


def upsert_relationships(rel: RelationshipTarget) -> LiteralString:
    """MERGE relationships between existing endpoints (looked up by label and key)."""
    return _literal(f"""
UNWIND $rows AS row
{_endpoints(rel)}
MERGE {_merge_pattern(rel)}
WITH r, row, coalesce(r.crkg_row_hash, '') <> row.hash AS changed
FOREACH (_ IN CASE WHEN changed THEN [1] ELSE [] END |
  SET r += row.props, {_provenance("r")})
RETURN count(r) AS written, sum(CASE WHEN changed THEN 1 ELSE 0 END) AS changed
""")


def delete_relationships(rel: RelationshipTarget) -> LiteralString:
    """Delete the relationships the rows name; one that is already gone counts as written."""
    keys = " AND ".join(f"r.{p} = row.props.{p}" for p in rel.merge_properties) or "true"
    return _literal(f"""
UNWIND $rows AS row
OPTIONAL MATCH (a:{rel.source.label.value} {{{rel.source.key_property}: row.src}})
               -[r:{rel.rel_type.value}]->
               (b:{rel.target.label.value} {{{rel.target.key_property}: row.dst}})
WHERE {keys}
WITH row, collect(r) AS found
FOREACH (r IN found | DELETE r)
RETURN count(row) AS written, sum(size(found)) AS changed
""")


def replace_single_link(rel: RelationshipTarget, *, owner_is_source: bool = True) -> LiteralString:
    """Give each owner node exactly one link of this type (MANAGED_BY, HOSTS).

    The owner is the node the row is about (``row.owner``); ``row.other`` is the node at the
    far end, or null to drop the link. The owner is the source of MANAGED_BY (a customer has
    one RM) and the target of HOSTS (a scenario has one host partner).
    """
    owner, other = (rel.source, rel.target) if owner_is_source else (rel.target, rel.source)
    arrow_old = "(o)-[old:{t}]->(x:{l})" if owner_is_source else "(x:{l})-[old:{t}]->(o)"
    arrow_new = "(o)-[:{t}]->(b)" if owner_is_source else "(b)-[:{t}]->(o)"
    old = arrow_old.format(t=rel.rel_type.value, l=other.label.value)
    new = arrow_new.format(t=rel.rel_type.value)
    return _literal(f"""
UNWIND $rows AS row
MATCH (o:{owner.label.value} {{{owner.key_property}: row.owner}})
OPTIONAL MATCH {old}
WHERE row.other IS NULL OR x.{other.key_property} <> row.other
WITH o, row, collect(old) AS stale
FOREACH (r IN stale | DELETE r)
WITH o, row, size(stale) AS dropped
OPTIONAL MATCH (b:{other.label.value} {{{other.key_property}: row.other}})
FOREACH (_ IN CASE WHEN b IS NOT NULL THEN [1] ELSE [] END | MERGE {new})
RETURN count(row) AS written, sum(dropped) AS changed
""")


UPSERT_IDENTIFIER_USES: Final[LiteralString] = """
UNWIND $rows AS row
MATCH (a:Customer {customer_id: row.src})
MERGE (b:Identifier {key: row.dst})
ON CREATE SET b.kind = row.kind, b.crkg_load_id = $load_id, b.crkg_loaded_at = $loaded_at
MERGE (a)-[r:USES]->(b)
WITH r, row, coalesce(r.crkg_row_hash, '') <> row.hash AS changed
FOREACH (_ IN CASE WHEN changed THEN [1] ELSE [] END |
  SET r += row.props, r.crkg_row_hash = row.hash, r.crkg_load_id = $load_id,
      r.crkg_loaded_at = $loaded_at)
RETURN count(r) AS written, sum(CASE WHEN changed THEN 1 ELSE 0 END) AS changed
"""

# An identifier no customer uses any more is removed with its last USES relationship.
DELETE_IDENTIFIER_USES: Final[LiteralString] = """
UNWIND $rows AS row
OPTIONAL MATCH (:Customer {customer_id: row.src})-[r:USES]->(b:Identifier {key: row.dst})
WITH row, b, collect(r) AS found
FOREACH (r IN found | DELETE r)
WITH row, b, size(found) AS deleted
CALL (b) {
  WITH b WHERE b IS NOT NULL AND NOT EXISTS { (b)<-[:USES]-() }
  DELETE b
}
RETURN count(row) AS written, sum(deleted) AS changed
"""


def existing_keys(target: NodeTarget) -> LiteralString:
    """Which of ``$keys`` exist as nodes of the target label."""
    return _literal(
        f"UNWIND $keys AS key MATCH (n:{target.label.value} {{{target.key_property}: key}}) "
        "RETURN key"
    )


# The stored rows an outcomes file names: per (list version, customer) pair of $pairs, whether
# the version exists and the treatment code of the customer's row on it (null: not on it).
LIST_ROWS_OF: Final[LiteralString] = """
UNWIND $pairs AS pair
OPTIONAL MATCH (v:ListVersion {list_version_id: pair.version})
OPTIONAL MATCH (v)-[row:LISTS]->(:Customer {customer_id: pair.customer})
RETURN pair.version AS version, pair.customer AS customer, v IS NOT NULL AS version_exists,
       row.treatment AS treatment
"""

RECORD_LOAD_RUN: Final[LiteralString] = """
MERGE (run:LoadRun {run_id: $run_id})
SET run += $properties
"""

COUNT_BY_LABEL: Final[LiteralString] = """
CALL db.labels() YIELD label
CALL (label) {
  MATCH (n) WHERE label IN labels(n) RETURN count(n) AS count
}
RETURN label, count
"""

COUNT_BY_TYPE: Final[LiteralString] = """
CALL db.relationshipTypes() YIELD relationshipType AS type
CALL (type) {
  MATCH ()-[r]->() WHERE type(r) = type RETURN count(r) AS count
}
RETURN type, count
"""

COUNT_DOMAIN_NODES: Final[LiteralString] = (
    "MATCH (n) WHERE NOT n:SchemaVersion RETURN count(n) AS count"
)


def write_statement(
    kind: WriteKind,
    *,
    node: NodeTarget | None = None,
    rel: RelationshipTarget | None = None,
    owner_is_source: bool = True,
) -> LiteralString:
    """The statement that writes one planned batch of ``kind`` for its target."""
    if kind == "upsert_nodes" and node is not None:
        return upsert_nodes(node)
    if kind == "delete_nodes" and node is not None:
        return delete_nodes(node)
    if kind == "link" and rel is not None:
        return replace_single_link(rel, owner_is_source=owner_is_source)
    if kind == "upsert_rels" and rel is not None:
        return upsert_relationships(rel)
    if kind == "delete_rels" and rel is not None:
        return delete_relationships(rel)
    if kind == "upsert_uses":
        return UPSERT_IDENTIFIER_USES
    if kind == "delete_uses":
        return DELETE_IDENTIFIER_USES
    raise ValueError(f"a {kind} write needs its target")
