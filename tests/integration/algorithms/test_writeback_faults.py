"""Issue 16 item 1: an algorithm's write-back whose connection to Neo4j breaks half-way.

`pagerank` runs in this process with its store behind :class:`~tests.support.faultproxy.FaultProxy`
and writes back in batches of 50 customers (the documented ``CRKG_ALGORITHM_WRITE_*``
settings). The proxy breaks the connection that carries a given statement: the publish
transaction reset part-way, the publish's commit carried out with its answer lost, a staging
batch's commit likewise; or it cuts Neo4j off, half-way through the staging, for longer than
the driver retries. Whatever happens, the served values (read beside the proxy) are all the
previous run's or all the new run's, never a mix, and the run's ``AlgorithmRun`` says which.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest

from algorithms.registry import Engine
from algorithms.runner import run_algorithm
from graph.errors import DatabaseUnavailableError
from graph.repositories.algorithm_runs import AlgorithmRunRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore, open_driver
from tests.support.banks import module_bank, query
from tests.support.faultproxy import Fault, FaultProxy

pytestmark = pytest.mark.db

CUSTOMERS = 900
BATCH = 50  # 18 staging batches
HEARTBEAT = 0.5  # seconds; a run silent for three times this is abandoned
RETRY_SECONDS = 2.0  # how long the run's driver retries an unreachable server
# statement text the proxy watches for: the publish transaction's last statement (the run's
# `published` list), and a staging batch
PUBLISH = b"run.published = coalesce(run.published"
STAGE = b"SET c[$stage] = row.value"

bank, fault_bank = module_bank(
    "writeback-fault-bank", customers=CUSTOMERS, seed=29, db_fixture="fault_bank"
)


@pytest.fixture
def proxy(test_settings: CrkgSettings) -> Iterator[FaultProxy]:
    with FaultProxy(test_settings.local_bolt_port) as faulty:
        yield faulty


def _settings(test_settings: CrkgSettings, **update: object) -> CrkgSettings:
    return test_settings.model_copy(
        update={
            "algorithm_heartbeat_seconds": HEARTBEAT,
            "algorithm_write_batch_size": BATCH,
            **update,
        }
    )


@asynccontextmanager
async def _through(proxy: FaultProxy, settings: CrkgSettings) -> AsyncIterator[GraphStore]:
    """A store on a driver of its own that reaches Neo4j only through ``proxy``."""
    faulty = await open_driver(
        settings.model_copy(
            update={
                "local_bolt_port": proxy.port,
                "neo4j_connection_timeout_seconds": 2.0,
                "neo4j_max_transaction_retry_seconds": RETRY_SECONDS,
            }
        )
    )
    try:
        yield GraphStore.from_settings(faulty, settings)
    finally:
        await faulty.close()


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


async def _previous_run(store: GraphStore, settings: CrkgSettings) -> dict[str, tuple[float, str]]:
    """A clean run (damping 0.85) beside the proxy: the values a broken run must not mix in."""
    before = await run_algorithm(store, settings, "pagerank", engine=Engine.INPROC)
    served = await _served(store)
    assert len(served) == CUSTOMERS
    assert {run for _, run in served.values()} == {before.run_id}
    return served


def _all_of_one_new_run(
    now: dict[str, tuple[float, str]],
    before: dict[str, tuple[float, str]],
    run_id: str,
    values: dict[str, float],
) -> None:
    assert now.keys() == before.keys()
    assert {run for _, run in now.values()} == {run_id}
    assert {k: v for k, (v, _) in now.items()} == pytest.approx(values)
    assert any(abs(now[k][0] - before[k][0]) > 1e-9 for k in now)  # damping 0.5 ≠ 0.85


@pytest.mark.parametrize(
    ("marker", "fault"),
    [(PUBLISH, "reset"), (PUBLISH, "lose-commit"), (STAGE, "lose-commit")],
    ids=["publish-reset-before-commit", "publish-commit-answer-lost", "stage-commit-answer-lost"],
)
async def test_a_write_back_broken_at_a_commit_serves_the_new_run_and_says_so(
    fault_bank: GraphStore,
    test_settings: CrkgSettings,
    proxy: FaultProxy,
    marker: bytes,
    fault: Fault,
) -> None:
    settings = _settings(test_settings)
    before = await _previous_run(fault_bank, settings)

    proxy.on_statement(marker, fault)
    async with _through(proxy, settings) as store:
        again = await run_algorithm(
            store, settings, "pagerank", {"damping": 0.5}, engine=Engine.INPROC
        )
    assert proxy.statement_faults == 1  # the fault really struck
    assert proxy.commits_lost == (1 if fault == "lose-commit" else 0)

    _all_of_one_new_run(await _served(fault_bank), before, again.run_id, again.values)
    record = await AlgorithmRunRepository(fault_bank).get(again.run_id)
    assert record is not None
    assert record.status == "SUCCEEDED", record.summary
    published = await query(
        fault_bank, "MATCH (r:AlgorithmRun {run_id: $id}) RETURN r.published AS p", id=again.run_id
    )
    assert published == [{"p": ["score_pagerank"]}]  # published once, not twice
    assert await _staged(fault_bank) == 0


async def test_neo4j_cut_off_half_way_through_staging_serves_the_old_run_and_fails_the_new(
    fault_bank: GraphStore, test_settings: CrkgSettings, proxy: FaultProxy
) -> None:
    settings = _settings(test_settings)
    before = await _previous_run(fault_bank, settings)

    slow = _settings(test_settings, algorithm_write_pause_seconds=0.2)  # 18 batches, ≥ 3.6 s
    async with _through(proxy, slow) as store:
        running = asyncio.create_task(
            run_algorithm(store, slow, "pagerank", {"damping": 0.5}, engine=Engine.INPROC)
        )
        deadline = time.monotonic() + 60
        while not 2 * BATCH <= (staged := await _staged(fault_bank)) <= CUSTOMERS // 2:
            assert not running.done(), "the run ended before it could be cut off"
            assert time.monotonic() < deadline, "the run never reached its write-back"
            await asyncio.sleep(0.05)
        proxy.cut()  # for longer than the driver retries: the run gives up
        with pytest.raises(DatabaseUnavailableError, match="not reachable"):
            await running
        assert await _served(fault_bank) == before  # all the old run's, values and stamps
        proxy.restore()

    assert 0 < staged < CUSTOMERS
    runs = AlgorithmRunRepository(fault_bank)
    [cut_off] = [r for r in await runs.latest("pagerank", 5) if r.status == "RUNNING"]
    # it could not record its failure (Neo4j was cut off): its heartbeat stopped instead
    await asyncio.sleep(3 * HEARTBEAT + 0.5)
    again = await run_algorithm(
        fault_bank, settings, "pagerank", {"damping": 0.5}, engine=Engine.INPROC
    )
    record = await runs.get(cut_off.run_id)
    assert record is not None
    assert record.status == "FAILED"
    error = (record.summary or {}).get("error", "")
    assert "at stage write" in error
    assert "nothing it computed was published" in error
    _all_of_one_new_run(await _served(fault_bank), before, again.run_id, again.values)
    assert await _staged(fault_bank) == 0  # the cut-off run's stage went with the next publish
