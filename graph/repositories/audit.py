"""AuditEvent nodes: written before a response with unmasked PII leaves the API."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from graph.errors import WriteOutcomeUnknownError
from graph.model import AuditEvent
from graph.queries import audit as q
from graph.store import QueryRunner

logger = logging.getLogger(__name__)

# a lost commit answer is retried this many times: the write is idempotent (MERGE on the id)
OUTCOME_UNKNOWN_RETRIES = 2


class AuditRepository:
    def __init__(self, runner: QueryRunner) -> None:
        self.runner = runner

    async def record(self, events: Sequence[AuditEvent]) -> None:
        """Store ``events``; when the connection dropped while the commit was answered, write
        them again (found by the load-with-faults smoke: a reset mid-commit refused the read)."""
        rows = [event.to_properties() for event in events]
        for attempt in range(OUTCOME_UNKNOWN_RETRIES + 1):
            try:
                await self.runner.execute("record audit events", q.RECORD_AUDIT_EVENTS, events=rows)
                return
            except WriteOutcomeUnknownError:
                if attempt == OUTCOME_UNKNOWN_RETRIES:
                    raise
                logger.warning("audit write outcome unknown; writing the events again (idempotent)")
