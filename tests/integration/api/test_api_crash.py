"""Issue 16 item 2: kill -9 of the API while it answers upserts and audited reads.

A real `crkg serve` takes a stream of concurrent requests — customer upserts as an admin,
reads of a customer's unmasked name as their RM (each with its own ``X-Crkg-Purpose``, so its
audit record can be found) — and is killed with SIGKILL in the middle of them. Afterwards:
every upsert that was answered 200 is in the graph, every unmasked read that was answered
has its audit record, and no customer of the stream is there half-written.
"""

from __future__ import annotations

import asyncio
import itertools
import threading

import httpx
import pytest
from neo4j import AsyncDriver

from api.security.auth import Role
from api.security.tokens import mint_token
from graph.settings import CrkgSettings
from graph.store import GraphStore
from tests.conftest import load_into_empty_db
from tests.integration.exports import write_bank
from tests.support.banks import query
from tests.support.crash import free_port, kill_amid, serve, until_gone

pytestmark = pytest.mark.db

WORKERS = 4
ANSWERED_BEFORE_THE_KILL = 60
UPSERT = """mutation($rows: [CustomerInput!]!) { upsertCustomers(input: $rows) {
    received loaded rejected { index } } }"""
READ_NAME = 'query Crash { customer(id: "C0000010") { name { value masked } } }'


@pytest.fixture(scope="module")
async def crash_api_bank(
    driver: AsyncDriver, test_settings: CrkgSettings, tmp_path_factory: pytest.TempPathFactory
) -> GraphStore:
    bank = tmp_path_factory.mktemp("crash-api") / "bank"
    write_bank(bank, customers=60, ties=80)
    return await load_into_empty_db(driver, test_settings, bank, tmp_path_factory.mktemp("rejects"))


class Stream:
    """Requests from several threads until the server is gone; what was answered 200."""

    def __init__(self, port: int, settings: CrkgSettings) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.admin = mint_token(settings, role=Role.ADMIN, subject="ops")
        self.rm = mint_token(settings, role=Role.RM, subject="RM0")  # C0000010 is RM0's
        self.numbers = itertools.count()
        self.lock = threading.Lock()
        self.upserted: list[str] = []
        self.read_purposes: list[str] = []
        self.stopped = threading.Event()

    def answered(self) -> int:
        with self.lock:
            return len(self.upserted) + len(self.read_purposes)

    def _one(self, http: httpx.Client, number: int) -> None:
        if number % 2 == 0:
            customer_id = f"KILL{number:06d}"
            row = {"customerId": customer_id, "kind": "PERSON", "name": f"崩溃{number}", "aum": 1}
            response = http.post(
                "/graphql",
                json={"query": UPSERT, "variables": {"rows": [row]}},
                headers={"Authorization": f"Bearer {self.admin}"},
            )
            body = response.json() if response.status_code == 200 else {}
            if body.get("data") and body["data"]["upsertCustomers"]["loaded"] == 1:
                with self.lock:
                    self.upserted.append(customer_id)
            return
        purpose = f"crash test read {number}"
        response = http.post(
            "/graphql",
            json={"query": READ_NAME},
            headers={"Authorization": f"Bearer {self.rm}", "X-Crkg-Purpose": purpose},
        )
        body = response.json() if response.status_code == 200 else {}
        name = ((body.get("data") or {}).get("customer") or {}).get("name") or {}
        if name.get("masked") is False:
            assert name["value"], body
            with self.lock:
                self.read_purposes.append(purpose)

    def work(self) -> None:
        until_gone(self.base, self.stopped, self.numbers, self._one)


def _stream_and_kill(settings: CrkgSettings) -> Stream:
    """Serve, stream requests from several threads, SIGKILL the server in their middle."""
    port = free_port()
    server = serve(settings, port)
    stream = Stream(port, settings)
    kill_amid(server, stream, answered_before=ANSWERED_BEFORE_THE_KILL, workers=WORKERS)
    return stream


async def test_a_killed_api_loses_no_answered_write_and_no_audit_record(
    crash_api_bank: GraphStore, test_settings: CrkgSettings
) -> None:
    store = crash_api_bank
    stream = await asyncio.to_thread(_stream_and_kill, test_settings)
    assert stream.upserted
    assert stream.read_purposes

    stored = await query(
        store,
        "MATCH (c:Customer) WHERE c.customer_id STARTS WITH 'KILL' "
        "RETURN c.customer_id AS id, c.name AS name, c.kind AS kind",
    )
    by_id = {r["id"]: r for r in stored}
    lost = sorted(set(stream.upserted) - by_id.keys())
    assert not lost, f"answered upserts lost: {lost}"
    # a request in flight at the kill is there entirely or not at all
    assert all(r["name"] and r["kind"] == "PERSON" for r in stored), stored
    audited = await query(
        store,
        "MATCH (a:AuditEvent {customer_id: 'C0000010'}) WHERE a.purpose IN $purposes "
        "RETURN a.purpose AS purpose, a.fields AS fields, a.subject AS subject",
        purposes=stream.read_purposes,
    )
    missing = sorted(set(stream.read_purposes) - {r["purpose"] for r in audited})
    assert not missing, f"answered unmasked reads without an audit record: {missing}"
    assert all("name" in r["fields"] and r["subject"] == "RM0" for r in audited)
