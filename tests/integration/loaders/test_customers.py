"""Customer upserts on the path production takes (the loader's, as files and the API's upserts
use it): idempotent, injection-proof, retried on a real transient error."""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from pathlib import Path

import pytest

from graph.read_models import CustomerRecord
from graph.repositories.customers import CustomerRepository
from graph.repositories.schema import SchemaRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore
from loaders.pipeline import Loader

pytestmark = pytest.mark.db


@pytest.fixture
async def loader(empty_db: GraphStore, test_settings: CrkgSettings, tmp_path: Path) -> Loader:
    await SchemaRepository(empty_db).apply()
    return Loader(empty_db, test_settings, batch_size=2, rejects_dir=tmp_path)


def _customer(customer_id: str, name: str = "张伟", **fields: str) -> dict[str, str]:
    return {"customer_id": customer_id, "kind": "PERSON", "name": name, **fields}


async def _upsert(loader: Loader, *rows: dict[str, str]) -> tuple[int, int]:
    outcome = await loader.load_records("customers", list(rows), source="test")
    assert outcome.rejects == [], outcome.rejects
    return outcome.report.rows_loaded, outcome.report.rows_changed


async def _get(store: GraphStore, customer_id: str) -> CustomerRecord | None:
    (found,) = await CustomerRepository(store).by_ids([customer_id])
    return found


async def _count(store: GraphStore, customer_id: str | None = None) -> int:
    row = await store.fetch_one(
        "count customers",
        "MATCH (c:Customer) WHERE $id IS NULL OR c.customer_id = $id RETURN count(c) AS n",
        id=customer_id,
    )
    assert row is not None
    return int(row["n"])


async def test_upserting_the_same_customer_twice_leaves_one_node(
    loader: Loader, empty_db: GraphStore
) -> None:
    zhang = _customer("C001", city="上海", aum="1250000.50", onboarded_at="2021-03-04")
    assert await _upsert(loader, zhang) == (1, 1)
    assert await _upsert(loader, zhang) == (1, 0)  # nothing changed the second time
    assert await _count(empty_db, "C001") == 1
    stored = await _get(empty_db, "C001")
    assert stored is not None
    assert (stored.name, stored.city, stored.aum_minor, stored.onboarded_at) == (
        "张伟",
        "上海",
        125_000_050,
        date(2021, 3, 4),
    )


async def test_changed_fields_update_in_place_and_rm_link_moves(
    loader: Loader, empty_db: GraphStore
) -> None:
    managers = [
        {"rm_id": "RM1", "name": "李娜", "branch_id": "B1"},
        {"rm_id": "RM2", "name": "王芳", "branch_id": "B1"},
    ]
    await loader.load_records("relationship_managers", managers, source="test")
    await _upsert(loader, _customer("C002", rm_id="RM1", aum="10.00"))
    assert await _upsert(loader, _customer("C002", rm_id="RM2", aum="20.00")) == (1, 1)
    assert await _count(empty_db, "C002") == 1
    stored = await _get(empty_db, "C002")
    assert stored is not None
    assert (stored.rm_id, stored.aum_minor) == ("RM2", 2000)
    links = await empty_db.fetch(
        "managed by",
        "MATCH (:Customer {customer_id: 'C002'})-[:MANAGED_BY]->(rm) RETURN rm.rm_id AS id",
    )
    assert links == [{"id": "RM2"}]  # the old link was replaced, not added to


async def test_batches_cover_every_row(loader: Loader, empty_db: GraphStore) -> None:
    batch = [_customer(f"C1{i:02d}") for i in range(7)]  # batch_size=2 -> 4 batches
    assert await _upsert(loader, *batch) == (7, 7)
    assert await _count(empty_db) == 7


CYPHER_CARRYING_VALUES = [
    "x'}) MATCH (n) DETACH DELETE n //",
    '") MATCH (n) DETACH DELETE n RETURN 1 //',
    "`Customer` {customer_id: 'evil'}) SET n.pwned = true",
    "$rows}) WITH 1 AS x CALL db.clearQueryCaches() //",
    "王芳\\'; DROP CONSTRAINT customer_id_unique; //",
]


async def test_values_carrying_cypher_are_stored_verbatim_and_run_nothing(
    loader: Loader, empty_db: GraphStore
) -> None:
    await _upsert(loader, _customer("SENTINEL"))
    hostile = [
        _customer(f"X{i}", name=value, city=value) for i, value in enumerate(CYPHER_CARRYING_VALUES)
    ]
    hostile.append(_customer(CYPHER_CARRYING_VALUES[0], name="id carrying cypher"))
    await _upsert(loader, *hostile)

    for customer in hostile:
        stored = await _get(empty_db, customer["customer_id"])
        assert stored is not None
        assert (stored.name, stored.city) == (customer["name"], customer.get("city"))
    assert await _count(empty_db, "SENTINEL") == 1
    assert await _count(empty_db) == len(hostile) + 1
    state = await SchemaRepository(empty_db).state()
    assert "customer_id_unique" in state.constraints
    records, _, _ = await empty_db.driver.execute_query(
        "MATCH (n) WHERE n.pwned IS NOT NULL RETURN count(n) AS c", database_=empty_db.database
    )
    assert records[0]["c"] == 0


async def test_a_write_that_meets_a_transient_error_is_retried_and_succeeds(
    loader: Loader, empty_db: GraphStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Hold a real write lock longer than the server's lock timeout (2 s in tests): the
    upsert's first attempt fails with Neo.TransientError.Transaction.LockAcquisitionTimeout,
    the driver retries it, and once the lock is released the retry succeeds."""
    await _upsert(loader, _customer("LOCKED", aum="1.00"))
    caplog.set_level(logging.WARNING, logger="graph.store")

    async with empty_db.driver.session(database=empty_db.database) as session:
        blocker = await session.begin_transaction()
        await blocker.run("MATCH (c:Customer {customer_id: 'LOCKED'}) SET c.aum_minor = 0")
        upsert = asyncio.create_task(_upsert(loader, _customer("LOCKED", aum="2.00")))
        await asyncio.sleep(3.5)  # longer than the lock timeout: one attempt has failed
        assert not upsert.done()
        await blocker.rollback()
        loaded, changed = await asyncio.wait_for(upsert, timeout=60)

    assert (loaded, changed) == (1, 1)
    assert await _count(empty_db, "LOCKED") == 1
    stored = await _get(empty_db, "LOCKED")
    assert stored is not None
    assert stored.aum_minor == 200
    retries = [r for r in caplog.records if "retrying after a transient error" in r.message]
    assert retries, "the upsert succeeded without ever meeting the lock timeout"
