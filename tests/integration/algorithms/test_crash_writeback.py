"""Issue 16 item 2: kill -9 of `crkg algo run` half-way through its write-back.

The run is made slow to write (batches of 50 customers, a pause after each: the documented
``CRKG_ALGORITHM_WRITE_*`` settings) so the kill lands between batches every time. Afterwards
the served scores are all the previous run's (values and run stamps), the killed run is
failed with the reason once its heartbeat is stale (not left RUNNING forever), and the next
run succeeds and replaces them all, leaving nothing staged behind.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from pathlib import Path

import pytest

from algorithms.registry import Engine
from algorithms.runner import run_algorithm
from graph.repositories.algorithm_runs import AlgorithmRunRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore
from tests.conftest import cli_env
from tests.support.banks import module_bank, query
from tests.support.cli import CRKG

pytestmark = pytest.mark.db

CUSTOMERS = 900
BATCH = 50  # 18 write batches
HEARTBEAT = 0.5  # seconds; a run silent for three times this is abandoned

bank, crash_bank = module_bank("crash-bank", customers=CUSTOMERS, seed=23, db_fixture="crash_bank")


async def _served(store: GraphStore) -> dict[str, tuple[float, str]]:
    rows = await query(
        store,
        "MATCH (c:Customer) WHERE c.score_pagerank IS NOT NULL "
        "RETURN c.customer_id AS id, c.score_pagerank AS score, c.score_pagerank_run_id AS run",
    )
    return {r["id"]: (r["score"], r["run"]) for r in rows}


async def _staged(store: GraphStore) -> int:
    rows = await query(
        store,
        "MATCH (c:Customer) WHERE any(k IN keys(c) WHERE k STARTS WITH 'score_pagerank_pending') "
        "RETURN count(c) AS n",
    )
    return int(rows[0]["n"])


async def _kill_half_way(settings: CrkgSettings, store: GraphStore) -> tuple[int, str]:
    """Start `crkg algo run pagerank` (another damping: other scores), SIGKILL it once some
    but not all batches are staged; how many were, and the killed run's id."""
    env = cli_env(
        settings,
        CRKG_ALGORITHM_WRITE_BATCH_SIZE=str(BATCH),
        CRKG_ALGORITHM_WRITE_PAUSE_SECONDS="0.5",
        CRKG_ALGORITHM_HEARTBEAT_SECONDS=str(HEARTBEAT),
    )
    process = subprocess.Popen(  # noqa: ASYNC220 (started once, polled without blocking)
        [*CRKG, "algo", "run", "pagerank", "--engine", "inproc", "--param", "damping=0.5"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        staged = 0
        while not 2 * BATCH <= staged <= CUSTOMERS // 2:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the run never reached its write-back"
            await asyncio.sleep(0.1)
            staged = await _staged(store)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    running = await query(
        store,
        "MATCH (r:AlgorithmRun {name: 'pagerank', status: 'RUNNING'}) RETURN r.run_id AS id",
    )
    assert len(running) == 1, running  # the kill left it running: nothing else could say
    return staged, str(running[0]["id"])


async def test_a_write_back_killed_half_way_serves_the_previous_run_then_the_next(
    crash_bank: GraphStore, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    store = crash_bank
    settings = test_settings.model_copy(update={"algorithm_heartbeat_seconds": HEARTBEAT})
    before = await run_algorithm(store, settings, "pagerank", engine=Engine.INPROC)
    served = await _served(store)
    assert len(served) == CUSTOMERS
    assert {run for _, run in served.values()} == {before.run_id}

    staged, killed = await _kill_half_way(test_settings, store)
    assert 0 < staged < CUSTOMERS
    after_kill = await _served(store)
    assert after_kill == served  # the previous run's values and stamps, not one of the new

    runs = AlgorithmRunRepository(store)
    record = await runs.get(killed)
    assert record is not None
    assert record.status == "RUNNING"
    await asyncio.sleep(3 * HEARTBEAT + 0.5)  # its heartbeat is now stale

    again = await run_algorithm(store, settings, "pagerank", {"damping": 0.5}, engine=Engine.INPROC)
    record = await runs.get(killed)
    assert record is not None
    assert record.status == "FAILED"
    assert record.finished_at is not None
    error = (record.summary or {}).get("error", "")
    assert "abandoned: the process running it stopped" in error
    assert "at stage write" in error
    assert "nothing it computed was published" in error

    now = await _served(store)
    assert {run for _, run in now.values()} == {again.run_id}
    assert now.keys() == served.keys()
    assert {k: v for k, (v, _) in now.items()} == pytest.approx(again.values)
    assert any(abs(now[k][0] - served[k][0]) > 1e-9 for k in served)  # damping 0.5 ≠ 0.85
    assert await _staged(store) == 0  # the killed run's stage went with the next publish
    succeeded = await runs.get(again.run_id)
    assert succeeded is not None
    assert succeeded.status == "SUCCEEDED"
