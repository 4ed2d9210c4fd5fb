"""Hostile values in the write paths, on the real server: what the fuzzing of queries misses.

An amount whose minor units do not fit Neo4j's 64-bit integer (``1e400``, 5000 nines) was
accepted by validation and then failed the write: ``INTERNAL_ERROR`` from ``upsertCustomers``
and a failed ``crkg load``. It is a row rejected ``OUT_OF_RANGE``, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from neo4j import AsyncDriver

from api.app import create_app
from api.security.auth import Role
from api.security.tokens import mint_token
from graph.settings import CrkgSettings
from graph.store import GraphStore
from loaders.pipeline import Loader
from tests.conftest import load_into_empty_db
from tests.support.banks import query, read_csv
from tests.support.campaign_bank import bank, write

pytestmark = pytest.mark.db

HUGE = ("1e400", "9" * 5000, "92233720368547758.08")  # the last: one minor unit above 2**63-1

UPSERT = """mutation($i: [CustomerInput!]!) {
  upsertCustomers(input: $i) { loaded rejected { index field reason message } }
}"""


@pytest.fixture(scope="module")
async def hostile_db(
    driver: AsyncDriver, test_settings: CrkgSettings, tmp_path_factory: pytest.TempPathFactory
) -> GraphStore:
    root = tmp_path_factory.mktemp("hostile-inputs")
    return await load_into_empty_db(driver, test_settings, bank(root / "bank"), root / "rejects")


@pytest.fixture(scope="module")
def client(hostile_db: GraphStore, test_settings: CrkgSettings) -> Iterator[TestClient]:
    with TestClient(create_app(test_settings), raise_server_exceptions=False) as test_client:
        yield test_client


async def _customers(store: GraphStore, prefix: str) -> list[object]:
    rows = await query(
        store,
        "MATCH (c:Customer) WHERE c.customer_id STARTS WITH $p RETURN c.customer_id AS id",
        p=prefix,
    )
    return [r["id"] for r in rows]


async def test_an_amount_too_large_to_store_is_a_rejected_row_in_an_upsert(
    client: TestClient, hostile_db: GraphStore, test_settings: CrkgSettings
) -> None:
    token = mint_token(test_settings, role=Role.ADMIN, subject="hostile-admin")
    rows = [
        {"customerId": f"HUGE-API-{i}", "kind": "PERSON", "name": "大额", "aum": aum}
        for i, aum in enumerate(HUGE)
    ]
    response = client.post(
        "/graphql",
        json={"query": UPSERT, "variables": {"i": rows}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    assert "errors" not in body, body
    done = body["data"]["upsertCustomers"]
    assert done["loaded"] == 0
    assert [(r["index"], r["field"], r["reason"]) for r in done["rejected"]] == [
        (i, "aum", "OUT_OF_RANGE") for i in range(len(HUGE))
    ]
    assert await _customers(hostile_db, "HUGE-API-") == []


async def test_an_amount_too_large_to_store_is_a_rejected_row_in_a_load(
    hostile_db: GraphStore, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    rows = [
        {"customer_id": f"HUGE-FILE-{i}", "kind": "PERSON", "name": "大额", "aum": aum}
        for i, aum in enumerate(HUGE)
    ]
    write(tmp_path / "huge", "customers", [*rows, {**rows[0], "customer_id": "OK-1", "aum": "5"}])
    report = await Loader(hostile_db, test_settings, rejects_dir=tmp_path / "rejects").load(
        tmp_path / "huge"
    )
    assert report.rows_loaded == 1
    rejects = read_csv(Path(report.rejects_file))
    assert [(r["column"], r["reason_code"]) for r in rejects] == [("aum", "OUT_OF_RANGE")] * 3
    assert await _customers(hostile_db, "HUGE-FILE-") == []
    assert await _customers(hostile_db, "OK-1") == ["OK-1"]


async def test_an_upsert_amount_is_read_as_sent_not_expanded(
    client: TestClient, hostile_db: GraphStore, test_settings: CrkgSettings
) -> None:
    """``1e100000000`` is 11 bytes; written out in full it was a 100 MB string per row (1000
    rows a request: an out-of-memory API). The reject quotes the amount as it was sent."""
    token = mint_token(test_settings, role=Role.ADMIN, subject="hostile-admin")
    rows = [{"customerId": "HUGE-EXP", "kind": "PERSON", "name": "大额", "aum": "1e100000000"}]
    response = client.post(
        "/graphql",
        json={"query": UPSERT, "variables": {"i": rows}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text[:500]
    done = response.json()["data"]["upsertCustomers"]
    assert [r["reason"] for r in done["rejected"]] == ["OUT_OF_RANGE"]
    assert "1E+100000000" in done["rejected"][0]["message"].upper()
    assert await _customers(hostile_db, "HUGE-EXP") == []
