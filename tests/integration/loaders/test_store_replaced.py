"""Issue 16 item 11: a driver that outlives a recreated store does not wait on the old one.

The bug this pins: the session's driver chained its ``execute_query`` calls after a bookmark
of the store the bulk import then replaced; the new store never reached that transaction,
and the next module to load its bank (the GraphQL tests, run after the bulk-import test)
failed with ``BookmarkTimeout``. Here that bad order runs inside one test: many writes on
the old store, the bulk import, then a bank loaded and a GraphQL read on the same driver.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from neo4j import AsyncDriver

from api.app import create_app
from api.security.auth import Role
from graph.settings import CrkgSettings
from loaders.bulk import bulk_load
from tests.conftest import load_into_empty_db
from tests.integration.api_client import api_for
from tests.integration.exports import write_bank

pytestmark = pytest.mark.db

# without the fix the read below waits for the server's bookmark timeout, then for the
# driver's retries of it: far longer than this
ANSWER_WITHIN_SECONDS = 20.0


async def test_the_session_driver_works_on_after_a_bulk_import_replaced_the_store(
    driver: AsyncDriver, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    database = test_settings.neo4j_database
    await driver.execute_query("MATCH (n) DETACH DELETE n", database_=database)
    # push the old store's transaction ids well past what the new one will have reached
    for number in range(60):
        await driver.execute_query("CREATE (:Scratch {n: $n})", n=number, database_=database)
    assert await driver.execute_query_bookmark_manager.get_bookmarks()
    await driver.execute_query("MATCH (n) DETACH DELETE n", database_=database)

    few = tmp_path / "few"
    write_bank(few, customers=30, ties=40)
    await bulk_load(test_settings, few)
    assert not await driver.execute_query_bookmark_manager.get_bookmarks()

    records, _, _ = await asyncio.wait_for(
        driver.execute_query("MATCH (c:Customer) RETURN count(c) AS n", database_=database),
        ANSWER_WITHIN_SECONDS,
    )
    assert records[0]["n"] == 30

    # what the GraphQL tests do next on the same driver: load their bank, then ask the API
    bank = tmp_path / "bank"
    write_bank(bank, customers=20, ties=25)
    store = await asyncio.wait_for(
        load_into_empty_db(driver, test_settings, bank, tmp_path / "rejects"),
        ANSWER_WITHIN_SECONDS * 3,
    )
    assert store.database == database
    with TestClient(create_app(test_settings)) as client:
        api = api_for(client, test_settings, Role.ADMIN, "admin-1")
        data = api.data('{ customer(id: "C0000007") { id } }')
    assert data["customer"] == {"id": "C0000007"}
    records, _, _ = await driver.execute_query(
        "MATCH (c:Customer) RETURN count(c) AS n", database_=database
    )
    assert records[0]["n"] == 20
