"""AuditEvent nodes: every read of unmasked PII (who, what, when, why)."""

from __future__ import annotations

from typing import Final, LiteralString

# MERGE on the event's own id, so writing the same events twice leaves them once: a commit
# whose answer was lost (the driver's IncompleteCommit) is retried safely.
RECORD_AUDIT_EVENTS: Final[LiteralString] = """
UNWIND $events AS event
MERGE (a:AuditEvent {audit_id: event.audit_id})
ON CREATE SET a = event
"""
