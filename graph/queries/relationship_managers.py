"""Relationship-manager nodes."""

from __future__ import annotations

from typing import Final, LiteralString

UPSERT_RELATIONSHIP_MANAGERS: Final[LiteralString] = """
UNWIND $rows AS row
MERGE (rm:RelationshipManager {rm_id: row.rm_id})
SET rm += row.properties
RETURN count(rm) AS upserted
"""
