"""An audit write whose commit answer was lost is written again, safely (the load-with-faults
smoke found a connection reset mid-commit refusing an RM's 360 with WRITE_OUTCOME_UNKNOWN)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graph.errors import WriteOutcomeUnknownError
from graph.lost_commits import LOST_COMMIT_RETRIES
from graph.model import AuditEvent
from graph.repositories.audit import AuditRepository
from tests.support.recording import Recorded, RecordingRunner

EVENT = AuditEvent(
    audit_id="a-1", subject="RM1", role="rm", customer_id="C1", fields=["phone"],
    operation="Customer360", at=datetime(2026, 12, 3, tzinfo=UTC),
)  # fmt: skip


def _losing(times: int) -> object:
    lost = {"n": 0}

    def answer(_: Recorded) -> list[dict[str, object]]:
        if lost["n"] < times:
            lost["n"] += 1
            raise WriteOutcomeUnknownError("bolt://db", "connection reset")
        return []

    return answer


async def test_a_lost_commit_answer_is_written_again_by_its_id() -> None:
    runner = RecordingRunner(answers={"record audit events": _losing(1)})  # type: ignore[dict-item]
    await AuditRepository(runner).record([EVENT])
    first, again = runner.checked()
    assert first.params == again.params
    # idempotent: the second write of the same event finds it by its id, never a second node
    assert "MERGE (a:AuditEvent {audit_id: event.audit_id})" in first.query
    assert "CREATE" not in first.query.replace("ON CREATE", "")


async def test_it_gives_up_after_its_retries() -> None:
    runner = RecordingRunner(answers={"record audit events": _losing(LOST_COMMIT_RETRIES + 1)})  # type: ignore[dict-item]
    with pytest.raises(WriteOutcomeUnknownError):
        await AuditRepository(runner).record([EVENT])
    assert len(runner.recorded) == LOST_COMMIT_RETRIES + 1
