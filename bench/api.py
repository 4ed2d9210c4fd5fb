"""API benchmark: GraphQL vs the same payload as plain FastAPI JSON, and customer-360 latency.

    .venv/bin/python -m bench.api                       # the 100,000-customer bank
    .venv/bin/python -m bench.api --customers 20000 --requests 1000

Uses the ``bench`` instance (port 7689) of ``bench.load``, filling an empty database with a
bulk import of the generated bank and running segmentation, PageRank and Louvain when their
results are missing. The API runs in a separate uvicorn process on loopback, as deployed;
the clients are async httpx in this process. Both sides share the machine's two cores.

1. **List query**: 1,000 customers (id, masked name, city, tier, AUM, product ids) as a
   GraphQL query, against the same fields as one Cypher query serialised by a plain FastAPI
   JSON endpoint mounted in the same app (the peer). Median of sequential requests.
2. **Customer 360** (profile, masked PII, RM, products, scenarios, communities, scores) for
   random customers, 16 concurrent clients: p50 and p99 latency.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from algorithms.runner import run_algorithm
from api.app import create_app
from api.security.auth import Role
from api.security.masking import mask_name
from api.security.tokens import mint_token
from bench.algorithms import _ensure_loaded
from graph.repositories.schema import SchemaRepository
from graph.settings import CrkgSettings
from graph.store import connected_store

TARGET_LIST_RATIO = 3.0
TARGET_P50_MS = 10.0
TARGET_P99_MS = 50.0
PAGE = 1_000

LIST_QUERY = """query List($first: Int!) { customers(first: $first) { edges { node {
  id name { value masked } city tier aum products { productId } } } } }"""

CUSTOMER_360 = """query Customer360($id: ID!) { customer(id: $id) {
  id kind city aum riskRating consentMarketing tier lifecycleStage
  name { value masked } phone { value masked } email { value masked }
  relationshipManager { id name } products { productId name category balance }
  scenarios { scenarioId name kind role } communities { algorithm communityId }
  scores { pagerank degree } } }"""

# The peer: the same fields in one Cypher statement, serialised by FastAPI as plain JSON.
PLAIN_JSON_PAGE = """
MATCH (c:Customer) WITH c ORDER BY c.customer_id LIMIT $first
OPTIONAL MATCH (c)-[:HOLDS]->(p:Product)
WITH c, p ORDER BY p.product_id
RETURN c.customer_id AS id, c.name AS name, c.city AS city, c.tier AS tier, c.aum_minor AS aum,
       collect(p.product_id) AS products
ORDER BY id
"""


def _settings(data_dir: Path) -> CrkgSettings:
    return CrkgSettings(data_dir=data_dir, local_instance="bench", local_bolt_port=7689)


def bench_app() -> FastAPI:
    """The real app plus the plain-JSON peer endpoint (``uvicorn --factory`` calls this)."""
    settings = CrkgSettings()
    app = create_app(settings)

    @app.get("/bench/customers.json")
    async def plain_json(request: Request, first: int = PAGE) -> JSONResponse:
        rows = await request.app.state.store.fetch("bench page", PLAIN_JSON_PAGE, first=first)
        customers = [
            {
                "id": r["id"],
                "name": {"value": mask_name(r["name"]).value, "masked": True},
                "city": r["city"],
                "tier": r["tier"],
                # stored in minor units; GraphQL's aum answers in currency units (as here)
                "aum": None if r["aum"] is None else r["aum"] / 100,
                "products": [{"productId": p} for p in r["products"]],
            }
            for r in rows
        ]
        return JSONResponse({"data": {"customers": {"edges": [{"node": c} for c in customers]}}})

    return app


async def _prepare(settings: CrkgSettings) -> list[str]:
    async with connected_store(settings) as store:
        await SchemaRepository(store).apply()  # this code's schema version, or /readyz says no

        ids = [
            str(r["id"])
            for r in await store.fetch("bench ids", "MATCH (c:Customer) RETURN c.customer_id AS id")
        ]
        record = await store.fetch_one(
            "bench probe",
            "MATCH (c:Customer) RETURN count(c.tier) > 0 AS tiers, "
            "count(c.score_pagerank) > 0 AS scores, count(c.community_louvain) > 0 AS louvain",
        )
        assert record is not None
        has_tiers, has_scores = bool(record["tiers"]), bool(record["scores"] and record["louvain"])
        if not has_tiers:
            await run_algorithm(store, settings, "segmentation")
        if not has_scores:
            await run_algorithm(store, settings, "pagerank")
            await run_algorithm(store, settings, "louvain")
    return ids


def _start_server(settings: CrkgSettings, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        CRKG_DATA_DIR=str(settings.data_dir),
        CRKG_LOCAL_INSTANCE=settings.local_instance,
        CRKG_LOCAL_BOLT_PORT=str(settings.local_bolt_port),
        CRKG_API_MAX_COST=str(10 * PAGE * 10),
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.api:bench_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--workers",
            str(workers),
        ],
        env=env,
    )


async def _wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    last = ""
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(300):
            if server.poll() is not None:
                raise SystemExit("the API process exited; see its output above")
            try:
                ready = await client.get("/readyz")
                if ready.status_code == 200:
                    return
                last = ready.text
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"the API did not become ready within 60 s: {last}")


async def _list_comparison(base: str, token: str, rounds: int) -> tuple[float, float, int, int]:
    headers = {"Authorization": f"Bearer {token}"}
    body = {"query": LIST_QUERY, "variables": {"first": PAGE}}
    graphql_ms: list[float] = []
    json_ms: list[float] = []
    sizes = [0, 0]
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for round_number in range(rounds + 3):  # the first three warm both paths up
            started = time.perf_counter()
            response = await client.post("/graphql", json=body, headers=headers)
            graphql = (time.perf_counter() - started) * 1000
            if response.status_code != 200 or "errors" in response.json():
                raise SystemExit(f"list query failed: {response.text[:300]}")
            sizes[0] = len(response.content)
            started = time.perf_counter()
            plain = await client.get("/bench/customers.json", params={"first": PAGE})
            plain_ms = (time.perf_counter() - started) * 1000
            if plain.status_code != 200:
                raise SystemExit(f"plain JSON failed: {plain.text[:300]}")
            sizes[1] = len(plain.content)
            if round_number >= 3:
                graphql_ms.append(graphql)
                json_ms.append(plain_ms)
    return statistics.median(graphql_ms), statistics.median(json_ms), sizes[0], sizes[1]


async def _customer_360(
    base: str, token: str, ids: list[str], requests: int, concurrency: int
) -> tuple[list[float], float]:
    headers = {"Authorization": f"Bearer {token}"}
    queue: asyncio.Queue[str] = asyncio.Queue()
    for customer_id in random.Random(7).choices(ids, k=requests):  # noqa: S311 - sampling
        queue.put_nowait(customer_id)
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        for customer_id in ids[:20]:  # warm up
            await client.post(
                "/graphql",
                json={"query": CUSTOMER_360, "variables": {"id": customer_id}},
                headers=headers,
            )

        async def worker() -> None:
            while not queue.empty():
                customer_id = queue.get_nowait()
                started = time.perf_counter()
                response = await client.post(
                    "/graphql",
                    json={"query": CUSTOMER_360, "variables": {"id": customer_id}},
                    headers=headers,
                )
                latencies.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
                assert response.json()["data"]["customer"]

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, requests / elapsed


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=Path(".crkg"))
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--rounds", type=int, default=30, help="list-query repetitions")
    parser.add_argument("--requests", type=int, default=2_000, help="customer-360 requests")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    settings = _settings(args.data_dir)
    # the bank bench.algorithms uses: bulk-imported into an empty database first
    _ensure_loaded(settings, settings.local_instance, args.customers, args.seed, False)
    ids = asyncio.run(_prepare(settings))
    token = mint_token(settings, role=Role.MARKETER, subject="bench")
    server = _start_server(settings, args.port, args.workers)
    base = f"http://127.0.0.1:{args.port}"
    try:
        asyncio.run(_wait_ready(base, server))
        graphql_ms, json_ms, graphql_bytes, json_bytes = asyncio.run(
            _list_comparison(base, token, args.rounds)
        )
        single, _ = asyncio.run(_customer_360(base, token, ids, args.requests // 4, 1))
        latencies, throughput = asyncio.run(
            _customer_360(base, token, ids, args.requests, args.concurrency)
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    ratio = graphql_ms / json_ms
    p50, p99 = _percentile(latencies, 0.50), _percentile(latencies, 0.99)
    print(
        f"\nAPI benchmark: {len(ids):,} customers; API in {args.workers} worker process(es); "
        f"{os.cpu_count()} cores shared with Neo4j and the clients"
    )
    print(f"{'measure':<44}{'value':>14}{'target':>12}  verdict")
    rows = [
        (f"list {PAGE:,} customers, GraphQL (median ms)", f"{graphql_ms:.1f}", "", ""),
        ("same payload, plain FastAPI JSON (median ms)", f"{json_ms:.1f}", "", ""),
        ("  response bytes GraphQL / JSON", f"{graphql_bytes:,} / {json_bytes:,}", "", ""),
        (
            "GraphQL / plain JSON",
            f"{ratio:.2f}x",
            f"<= {TARGET_LIST_RATIO:.0f}x",
            "met" if ratio <= TARGET_LIST_RATIO else "NOT met",
        ),
        ("customer 360 p50, one client (ms)", f"{_percentile(single, 0.5):.1f}", "", ""),
        ("customer 360 p99, one client (ms)", f"{_percentile(single, 0.99):.1f}", "", ""),
        (
            f"customer 360 p50, {args.concurrency} clients (ms)",
            f"{p50:.1f}",
            f"<= {TARGET_P50_MS:.0f}",
            "met" if p50 <= TARGET_P50_MS else "NOT met",
        ),
        (
            f"customer 360 p99, {args.concurrency} clients (ms)",
            f"{p99:.1f}",
            f"<= {TARGET_P99_MS:.0f}",
            "met" if p99 <= TARGET_P99_MS else "NOT met",
        ),
        ("customer 360 throughput (requests/s)", f"{throughput:.0f}", "", ""),
    ]
    for name, value, target, verdict in rows:
        print(f"{name:<44}{value:>14}{target:>12}  {verdict}")


if __name__ == "__main__":
    main()
