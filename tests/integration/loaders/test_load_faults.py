"""Issue 16 item 1: a load whose connections to Neo4j break part-way, through the fault proxy.

The loader talks to Neo4j only through :class:`~tests.support.faultproxy.FaultProxy`, which
breaks the network at set points of the load (counted in the ``COMMIT`` messages that passed):
it resets every connection, loses the answer to a commit that Neo4j carried out (the driver's
``IncompleteCommit``: the outcome is unknown to the loader), resets a connection with data in
flight on a slowed network, and cuts Neo4j off for a while. The one load must finish by itself
(transient and unavailable errors retried by the driver's managed transactions, the batch of
the unknown commit written again: every batch is an idempotent ``MERGE``), and the graph must
equal one clean load of the same export into the same, emptied database.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from neo4j import AsyncDriver

from graph.repositories.schema import SchemaRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore, open_driver
from loaders.pipeline import Loader
from tests.conftest import load_into_empty_db
from tests.integration.exports import write_bank
from tests.support.faultproxy import FaultProxy
from tests.support.fingerprint import graph_fingerprint

pytestmark = pytest.mark.db

CUSTOMERS, TIES, BATCH = 1_500, 6_000, 250
CUT_SECONDS = 1.5
# (after this many commits, fault): the load has some 44 commits, so every fault lands
# part-way through it
SCHEDULE = ((4, "reset"), (10, "lose-commit"), (18, "slow-reset"), (26, "cut"))


async def _break_part_way(proxy: FaultProxy, loading: asyncio.Task[object]) -> list[str]:
    """Inject the scheduled faults while the load runs; the ones injected, in order."""
    done: list[str] = []
    for after, fault in SCHEDULE:
        while proxy.commits < after:
            if loading.done():
                return done
            await asyncio.sleep(0.005)
        if fault == "reset":
            proxy.reset()
        elif fault == "lose-commit":
            proxy.lose_next_commit_answer()
            deadline = time.monotonic() + 30
            while not proxy.commits_lost and not loading.done():
                assert time.monotonic() < deadline, "no commit passed the proxy"
                await asyncio.sleep(0.005)
        elif fault == "slow-reset":
            proxy.delay = 0.05  # data held in the proxy when the reset comes
            await asyncio.sleep(0.02)
            proxy.reset()
            proxy.delay = 0.0
        else:
            proxy.cut()
            await asyncio.sleep(CUT_SECONDS)
            proxy.restore()
        done.append(fault)
    return done


async def test_a_load_through_resets_a_lost_commit_and_a_cut_equals_one_clean_load(
    empty_db: GraphStore, driver: AsyncDriver, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    bank = tmp_path / "bank"
    rows = write_bank(bank, customers=CUSTOMERS, ties=TIES, seed=16)
    clean_store = await load_into_empty_db(driver, test_settings, bank, tmp_path / "clean")
    clean = await graph_fingerprint(clean_store)
    assert len(clean) > TIES  # a real graph

    await driver.execute_query("MATCH (n) DETACH DELETE n", database_=test_settings.neo4j_database)
    await SchemaRepository(empty_db).apply()
    with FaultProxy(test_settings.local_bolt_port) as proxy:
        settings = test_settings.model_copy(
            update={
                "local_bolt_port": proxy.port,  # the same server and credentials, via the proxy
                "neo4j_connection_timeout_seconds": 2.0,
            }
        )
        faulty = await open_driver(settings)
        try:
            store = GraphStore.from_settings(faulty, settings)
            loader = Loader(store, settings, batch_size=BATCH, rejects_dir=tmp_path / "faulty")
            started = time.monotonic()
            loading = asyncio.create_task(loader.load(bank))
            injected = await _break_part_way(proxy, loading)
            report = await loading
            seconds = time.monotonic() - started
        finally:
            await faulty.close()

    assert injected == [fault for _, fault in SCHEDULE], "the load ended before every fault"
    assert proxy.commits_lost == 1  # Neo4j committed a batch the loader never heard of
    assert seconds > CUT_SECONDS  # the load waited out the cut instead of failing
    assert report.status == "SUCCEEDED", report.to_json()
    assert report.rows_rejected == 0
    assert {f.file: f.rows_loaded for f in report.files} == rows  # every row, none twice
    assert await graph_fingerprint(empty_db) == clean
