"""AuditEvent nodes: written before a response with unmasked PII leaves the API."""

from __future__ import annotations

from collections.abc import Sequence

from graph.model import AuditEvent
from graph.queries import audit as q
from graph.store import QueryRunner


class AuditRepository:
    def __init__(self, runner: QueryRunner) -> None:
        self.runner = runner

    async def record(self, events: Sequence[AuditEvent]) -> None:
        """Store ``events``; a commit whose answer was lost is written again (a MERGE on each
        event's id: found by the load-with-faults smoke, where a reset mid-commit refused an
        RM's 360 with WRITE_OUTCOME_UNKNOWN)."""
        await self.runner.execute_idempotent(
            "record audit events",
            q.RECORD_AUDIT_EVENTS,
            events=[event.to_properties() for event in events],
        )
