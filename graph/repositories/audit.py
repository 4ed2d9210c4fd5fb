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
        await self.runner.execute(
            "record audit events",
            q.RECORD_AUDIT_EVENTS,
            events=[event.to_properties() for event in events],
        )
