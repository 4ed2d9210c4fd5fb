"""A commit whose answer was lost (the driver's ``IncompleteCommit``, crkg's
``WriteOutcomeUnknownError``): idempotent writes run again, a publish is checked first, and
an outcome that stays unknown is never reported as "not carried out".

The database side (a real lost answer, through the fault proxy) is in
``tests/integration/loaders/test_load_faults.py`` and
``tests/integration/algorithms/test_writeback_faults.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from graph.errors import DatabaseUnavailableError, WriteOutcomeUnknownError
from graph.lost_commits import LOST_COMMIT_RETRIES
from graph.repositories.customers import CustomerRepository
from graph.repositories.loads import LoadRepository, WriteOp
from graph.store import Row
from graph.targets import CUSTOMER
from tests.support.recording import Recorded, RecordingRunner


def _failing_first(
    times: int, then: list[Row], error: Exception | None = None
) -> Callable[[Recorded], list[Row]]:
    """An answer that loses the commit ``times`` times, then raises ``error`` or answers."""
    calls = {"n": 0}

    def answer(recorded: Recorded) -> list[Row]:
        calls["n"] += 1
        if calls["n"] <= times:
            raise WriteOutcomeUnknownError("bolt://x", "lost")
        if error is not None:
            raise error
        return then

    return answer


async def test_an_idempotent_write_runs_again_after_a_lost_commit() -> None:
    runner = RecordingRunner(answers={"w": _failing_first(1, [{"written": 3}])})
    done = await runner.execute_idempotent("w", "MERGE (n:Customer {customer_id: $id})", id="C1")
    assert done.repeated
    assert done.count() == 3
    assert len(runner.recorded) == 2
    plain = await RecordingRunner(answers={"w": [{"written": 1}]}).execute_idempotent("w", "X")
    assert not plain.repeated


async def test_an_outcome_that_stays_unknown_is_reported_as_unknown() -> None:
    unreachable = DatabaseUnavailableError("bolt://x", "down")
    runner = RecordingRunner(answers={"w": _failing_first(1, [], unreachable)})
    with pytest.raises(WriteOutcomeUnknownError):  # not "unavailable": it may have committed
        await runner.execute_idempotent("w", "X")
    never = RecordingRunner(answers={"w": _failing_first(99, [])})
    with pytest.raises(WriteOutcomeUnknownError):
        await never.execute_idempotent("w", "X")
    assert len(never.recorded) == LOST_COMMIT_RETRIES + 1
    first_try = RecordingRunner(answers={"w": _failing_first(0, [], unreachable)})
    with pytest.raises(DatabaseUnavailableError):  # nothing was committed: plain unavailable
        await first_try.execute_idempotent("w", "X")


async def test_a_load_batch_written_again_counts_its_rows_as_changed() -> None:
    rows = [{"key": "C1"}, {"key": "C2"}]
    runner = RecordingRunner(answers={"op": _failing_first(1, [{"written": 2, "changed": 0}])})
    op = WriteOp("op", "upsert_nodes", rows, node=CUSTOMER)
    result = await LoadRepository(runner).write(op, load_id="l", loaded_at=datetime.now(UTC))
    assert (result.written, result.changed) == (2, 2)  # the lost commit may have changed them


@pytest.mark.parametrize(("published", "publishes"), [(["score_degree"], 1), ([], 2)])
async def test_a_publish_whose_answer_was_lost_is_checked_before_publishing_again(
    published: list[str], publishes: int
) -> None:
    runner = RecordingRunner(
        answers={
            "publish score_degree": _failing_first(1, [{"written": 5}]),
            "check publish": [{"published": published}],
        }
    )
    await CustomerRepository(runner).publish_results({"score_degree": 5}, "run-1")
    operations = [r.operation for r in runner.recorded]
    assert operations.count("check publish") == 1
    # the failed attempt recorded its first statement; a second publish records all three
    assert operations.count("publish score_degree") == 1 + 3 * (publishes - 1)
