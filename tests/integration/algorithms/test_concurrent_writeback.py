"""Issue 16 review: two runs of one algorithm at once never publish a mix.

Nothing single-flights the runs of one algorithm (the API's job and `crkg algo run` may run
side by side), so each run stages in a property of its own and publishes only that. Driven
through the repository in an interleaved order (what two write-backs with pauses between
their batches do): run A stages half its values, run B stages and publishes all of its
values, A stages the rest and publishes. A's stage survives B's publish, so A publishes all
of its values; and when A's stage was dropped (A failed as abandoned meanwhile), A's publish
finds fewer values than it staged and rolls back inside its transaction: B's stay served.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from graph.errors import QueryFailedError
from graph.repositories.algorithm_runs import AlgorithmRunRepository
from graph.repositories.customers import CustomerRepository
from graph.store import GraphStore
from tests.support.banks import module_bank, query

pytestmark = pytest.mark.db

PROP = "score_degree"
bank, concurrent_bank = module_bank(
    "concurrent-bank", customers=200, seed=41, db_fixture="concurrent_bank"
)


async def _served(store: GraphStore) -> dict[str, tuple[float, str]]:
    rows = await query(
        store,
        f"MATCH (c:Customer) WHERE c.{PROP} IS NOT NULL "
        f"RETURN c.customer_id AS id, c.{PROP} AS value, c.{PROP}_run_id AS run",
    )
    return {r["id"]: (r["value"], r["run"]) for r in rows}


async def _staged_anywhere(store: GraphStore) -> int:
    rows = await query(
        store,
        "MATCH (c:Customer) WHERE any(k IN keys(c) WHERE k STARTS WITH $prefix) "
        "RETURN count(c) AS n",
        prefix=f"{PROP}_pending",
    )
    return int(rows[0]["n"])


async def _start(store: GraphStore, run_id: str) -> None:
    now = datetime.now(UTC)
    properties: dict[str, Any] = {
        "name": "degree",
        "status": "RUNNING",
        "started_at": now,
        "heartbeat_at": now,
    }
    await AlgorithmRunRepository(store).record(run_id, properties)


async def _values(store: GraphStore, offset: float) -> dict[str, float]:
    rows = await query(store, "MATCH (c:Customer) RETURN c.customer_id AS id ORDER BY id")
    return {r["id"]: offset + i for i, r in enumerate(rows)}


async def test_interleaved_runs_each_publish_all_of_their_own_values(
    concurrent_bank: GraphStore,
) -> None:
    store = concurrent_bank
    customers = CustomerRepository(store, batch_size=25)
    a_values, b_values = await _values(store, 1000.0), await _values(store, 5000.0)
    ids = sorted(a_values)
    first, rest = ids[: len(ids) // 2], ids[len(ids) // 2 :]
    await _start(store, "run-a")
    await _start(store, "run-b")

    staged_a = await customers.stage_result(PROP, {k: a_values[k] for k in first}, "run-a")
    b = await customers.stage_result(PROP, b_values, "run-b")
    await customers.publish_results({PROP: b}, "run-b")
    served = await _served(store)
    assert served == {k: (v, "run-b") for k, v in b_values.items()}  # B's, all of them

    staged_a += await customers.stage_result(PROP, {k: a_values[k] for k in rest}, "run-a")
    await customers.publish_results({PROP: staged_a}, "run-a")
    served = await _served(store)
    assert {run for _, run in served.values()} == {"run-a"}  # never a mix
    assert served == {k: (v, "run-a") for k, v in a_values.items()}
    assert await _staged_anywhere(store) == 0


async def test_a_run_whose_stage_was_dropped_publishes_nothing(
    concurrent_bank: GraphStore,
) -> None:
    store = concurrent_bank
    customers = CustomerRepository(store, batch_size=25)
    c_values, d_values = await _values(store, 9000.0), await _values(store, 7000.0)
    ids = sorted(c_values)
    first, rest = ids[: len(ids) // 2], ids[len(ids) // 2 :]
    await _start(store, "run-c")
    await _start(store, "run-d")

    staged_c = await customers.stage_result(PROP, {k: c_values[k] for k in first}, "run-c")
    await AlgorithmRunRepository(store).record("run-c", {"status": "FAILED"})  # abandoned
    d = await customers.stage_result(PROP, d_values, "run-d")
    await customers.publish_results({PROP: d}, "run-d")  # drops the failed run's stage
    staged_c += await customers.stage_result(PROP, {k: c_values[k] for k in rest}, "run-c")

    with pytest.raises(QueryFailedError, match="vanished"):
        await customers.publish_results({PROP: staged_c}, "run-c")
    served = await _served(store)
    assert served == {k: (v, "run-d") for k, v in d_values.items()}  # rolled back: all D's
    marks = await query(
        store, "MATCH (r:AlgorithmRun {run_id: 'run-c'}) RETURN r.published AS published"
    )
    assert marks == [{"published": None}]  # its publish mark rolled back with the values
