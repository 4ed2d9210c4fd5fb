"""Customer upserts: idempotent, injection-proof, retried on a real transient error."""

from __future__ import annotations

import asyncio
import logging
from datetime import date

import pytest

from graph.model import Customer, CustomerKind, RelationshipManager
from graph.repositories.customers import CustomerRepository
from graph.repositories.schema import SchemaRepository
from graph.store import GraphStore


@pytest.fixture
async def customers(empty_db: GraphStore) -> CustomerRepository:
    await SchemaRepository(empty_db).apply()
    return CustomerRepository(empty_db, batch_size=2)


def _customer(customer_id: str, name: str = "张伟", **fields: object) -> Customer:
    return Customer.model_validate(
        {"customer_id": customer_id, "kind": CustomerKind.PERSON, "name": name, **fields}
    )


async def test_upserting_the_same_customer_twice_leaves_one_node(
    customers: CustomerRepository,
) -> None:
    zhang = _customer("C001", city="上海", aum_minor=125_000_050, onboarded_at=date(2021, 3, 4))
    first = await customers.upsert([zhang])
    second = await customers.upsert([zhang])
    assert first.nodes_created == 1
    assert second.nodes_created == 0
    assert await customers.count("C001") == 1
    stored = await customers.get("C001")
    assert stored == zhang


async def test_changed_fields_update_in_place_and_rm_link_moves(
    customers: CustomerRepository,
) -> None:
    await customers.upsert_managers(
        [
            RelationshipManager(rm_id="RM1", name="李娜", branch_id="B1"),
            RelationshipManager(rm_id="RM2", name="王芳", branch_id="B1"),
        ]
    )
    await customers.upsert([_customer("C002", rm_id="RM1", aum_minor=1000)])
    result = await customers.upsert([_customer("C002", rm_id="RM2", aum_minor=2000)])
    assert result.nodes_created == 0
    assert result.relationships_deleted == 1
    stored = await customers.get("C002")
    assert stored is not None
    assert (stored.rm_id, stored.aum_minor) == ("RM2", 2000)


async def test_batches_cover_every_row(customers: CustomerRepository) -> None:
    batch = [_customer(f"C1{i:02d}") for i in range(7)]  # batch_size=2 -> 4 batches
    result = await customers.upsert(batch)
    assert (result.rows, result.nodes_created) == (7, 7)
    assert await customers.count() == 7


CYPHER_CARRYING_VALUES = [
    "x'}) MATCH (n) DETACH DELETE n //",
    '") MATCH (n) DETACH DELETE n RETURN 1 //',
    "`Customer` {customer_id: 'evil'}) SET n.pwned = true",
    "$rows}) WITH 1 AS x CALL db.clearQueryCaches() //",
    "王芳\\'; DROP CONSTRAINT customer_id_unique; //",
]


async def test_values_carrying_cypher_are_stored_verbatim_and_run_nothing(
    customers: CustomerRepository, empty_db: GraphStore
) -> None:
    await customers.upsert([_customer("SENTINEL")])
    hostile = [
        _customer(f"X{i}", name=value, city=value) for i, value in enumerate(CYPHER_CARRYING_VALUES)
    ]
    hostile.append(_customer(CYPHER_CARRYING_VALUES[0], name="id carrying cypher"))
    await customers.upsert(hostile)

    for customer in hostile:
        stored = await customers.get(customer.customer_id)
        assert stored is not None
        assert (stored.name, stored.city) == (customer.name, customer.city)
    assert await customers.count("SENTINEL") == 1
    assert await customers.count() == len(hostile) + 1
    state = await SchemaRepository(empty_db).state()
    assert "customer_id_unique" in state.constraints
    records, _, _ = await empty_db.driver.execute_query(
        "MATCH (n) WHERE n.pwned IS NOT NULL RETURN count(n) AS c", database_=empty_db.database
    )
    assert records[0]["c"] == 0


async def test_a_write_that_meets_a_transient_error_is_retried_and_succeeds(
    customers: CustomerRepository, empty_db: GraphStore, caplog: pytest.LogCaptureFixture
) -> None:
    """Hold a real write lock longer than the server's lock timeout (2 s in tests): the
    upsert's first attempt fails with Neo.TransientError.Transaction.LockAcquisitionTimeout,
    the driver retries it, and once the lock is released the retry succeeds."""
    await customers.upsert([_customer("LOCKED", aum_minor=100)])
    caplog.set_level(logging.WARNING, logger="graph.store")

    async with empty_db.driver.session(database=empty_db.database) as session:
        blocker = await session.begin_transaction()
        await blocker.run("MATCH (c:Customer {customer_id: 'LOCKED'}) SET c.aum_minor = 0")
        upsert = asyncio.create_task(customers.upsert([_customer("LOCKED", aum_minor=200)]))
        await asyncio.sleep(3.5)  # longer than the lock timeout: one attempt has failed
        assert not upsert.done()
        await blocker.rollback()
        result = await asyncio.wait_for(upsert, timeout=60)

    assert result.nodes_created == 0
    stored = await customers.get("LOCKED")
    assert stored is not None
    assert stored.aum_minor == 200
    retries = [r for r in caplog.records if "retrying after a transient error" in r.message]
    assert retries, "the upsert succeeded without ever meeting the lock timeout"
