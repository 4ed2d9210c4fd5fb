"""AuditEvent nodes: every read of unmasked PII (who, what, when, why)."""

from __future__ import annotations

from typing import Final, LiteralString

RECORD_AUDIT_EVENTS: Final[LiteralString] = """
UNWIND $events AS event
CREATE (a:AuditEvent)
SET a = event
"""
