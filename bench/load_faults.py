"""Load with faults (issue 16 item 5): a realistic read mix on the bank, faults part-way.

    .venv/bin/python -m bench.load_faults                    # the 100,000-customer bank
    .venv/bin/python -m bench.load_faults --customers 20000 --users 8

locust (``bench/loadmix.py``: the mix in percentages) drives the API, which runs as deployed
(uvicorn, its own process) and reaches Neo4j only through the fault proxy
(``tests/support/faultproxy.py``). After a baseline the proxy resets every open connection;
later Neo4j itself is restarted (stopped, then started: the managed server). The benchmark
prints the error rate outside the fault windows (target < 1%), p95 before, during and after
the faults, how long p95 took to come back within 1.2x of its baseline after Neo4j returned
(target: 30 s), and the API process's memory (resident set, sampled every second: after the
warm-up, peak, at the end).

Uses the ``bench`` instance (port 7689) of ``bench.load``, as ``bench.api`` does. The CI
smoke (``tests/integration/api/test_load_faults_smoke.py``) runs :func:`run_load` for half a
minute on the test instance, with a cut of the proxy in place of the restart.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psutil  # type: ignore[import-untyped]

from algorithms.runner import run_algorithm
from api.security.auth import Role
from api.security.tokens import mint_token
from graph.localserver.manager import LocalNeo4j
from graph.repositories.schema import SchemaRepository
from graph.settings import CrkgSettings
from graph.store import connected_store

SETTLE_SECONDS = 5.0  # a fault's window runs on this long after it ends
RECOVERY_TARGET_SECONDS = 30.0
RECOVERY_RATIO = 1.2
WINDOW_SECONDS = 5.0  # the p95 of the recovery check is over windows this long
LOCUSTFILE = Path(__file__).with_name("loadmix.py")


@dataclass
class Fault:
    name: str
    started: float
    ended: float

    def covers(self, request: Request) -> bool:
        """The request was in flight at some moment of the fault's window."""
        return (
            request.at <= self.ended + SETTLE_SECONDS
            and request.at + request.ms / 1000 >= self.started
        )


@dataclass
class Request:
    at: float
    read: str
    ms: float
    status: int
    error: str = ""  # "" when answered, else "HTTP <status>" or the first GraphQL error code

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class LoadReport:
    requests: list[Request]
    faults: list[Fault]
    measured_from: float
    memory: list[tuple[float, int]] = field(default_factory=list)  # (time, RSS bytes)

    def outside(self) -> list[Request]:
        return [r for r in self.requests if not any(f.covers(r) for f in self.faults)]

    def error_rate_outside(self) -> float:
        outside = self.outside()
        return sum(not r.ok for r in outside) / max(len(outside), 1)

    def baseline(self) -> list[Request]:
        first = min((f.started for f in self.faults), default=float("inf"))
        return [r for r in self.requests if self.measured_from <= r.at < first]

    def after(self) -> list[Request]:
        last = max((f.ended + SETTLE_SECONDS for f in self.faults), default=0.0)
        return [r for r in self.requests if r.at > last]

    def during(self, fault: Fault) -> list[Request]:
        return [r for r in self.requests if fault.covers(r)]

    def recovery_seconds(self, fault: Fault) -> float | None:
        """Seconds after ``fault`` ended until the p95 of a window of requests is back within
        1.2x of the baseline's (None: it never was, within the run)."""
        target = RECOVERY_RATIO * p95(self.baseline())
        ok = sorted((r for r in self.requests if r.at >= fault.ended and r.ok), key=lambda r: r.at)
        for start in np.arange(fault.ended, ok[-1].at if ok else fault.ended, 1.0):
            window = [r for r in ok if start <= r.at < start + WINDOW_SECONDS]
            if len(window) >= 10 and p95(window) <= target:
                return float(start - fault.ended)
        return None

    def mix(self) -> dict[str, float]:
        counts: dict[str, int] = {}
        for r in self.requests:
            counts[r.read] = counts.get(r.read, 0) + 1
        return {read: 100 * n / len(self.requests) for read, n in sorted(counts.items())}

    def errors(self, requests: list[Request] | None = None) -> dict[str, int]:
        found: dict[str, int] = {}
        for r in self.requests if requests is None else requests:
            if r.error:
                found[r.error] = found.get(r.error, 0) + 1
        return dict(sorted(found.items()))

    def statuses(self) -> dict[int, int]:
        found: dict[int, int] = {}
        for r in self.requests:
            found[r.status] = found.get(r.status, 0) + 1
        return dict(sorted(found.items()))


def p95(requests: list[Request]) -> float:
    ok = [r.ms for r in requests if r.ok]
    return float(np.percentile(ok, 95)) if ok else float("nan")


# --- preparing the bank ----------------------------------------------------------------------
async def make_plan(settings: CrkgSettings, people: int) -> dict[str, object]:
    """The locust users' plan: customers to read, a product with stored targets, and for each
    of ``people`` users an RM (with their book), a marketer and a risk analyst of their own —
    one person per user, as at a bank (the API's limits are per person: two users sharing a
    subject would wait on each other's search slot and answer BUSY). Runs what the reads need
    when the bank lacks it."""
    async with connected_store(settings) as store:
        await SchemaRepository(store).apply()
        ids = [
            str(r["id"])
            for r in await store.fetch(
                "load ids", "MATCH (c:Customer) RETURN c.customer_id AS id ORDER BY id LIMIT 20000"
            )
        ]
        books = await store.fetch(
            "load books",
            "MATCH (c:Customer)-[:MANAGED_BY]->(r:RelationshipManager) "
            "WITH r, collect(c.customer_id) AS book RETURN r.rm_id AS rm, book "
            "ORDER BY size(book) DESC, rm LIMIT $people",
            people=people,
        )
        product = await store.fetch_one(
            "load product",
            "MATCH (:Customer)-[:HOLDS]->(p:Product) RETURN p.product_id AS id, count(*) AS n "
            "ORDER BY n DESC, id LIMIT 1",
        )
        assert product is not None, "the bank needs holdings"
        assert books, "the bank needs managed customers"
        present = await store.fetch_one(
            "load present",
            "RETURN EXISTS { ()-[:REFERRAL_TARGET]->(:Product {product_id: $p}) } AS targets, "
            "EXISTS { (:AlgorithmRun {name: 'guarantee_circles', status: 'SUCCEEDED'}) } "
            "AS circles, "
            "EXISTS { (c:Customer) WHERE c.score_pagerank IS NOT NULL } AS scores",
            p=product["id"],
        )
        assert present is not None
        if not present["scores"]:
            for name in ("segmentation", "pagerank", "louvain"):
                await run_algorithm(store, settings, name)
        if not present["targets"]:
            await run_algorithm(store, settings, "referral_targets", {"product_id": product["id"]})
        if not present["circles"]:
            await run_algorithm(store, settings, "guarantee_circles")
    persons = []
    for number in range(people):
        rm = books[number % len(books)]
        persons.append(
            {
                "book": list(rm["book"]),
                "tokens": {
                    "rm": mint_token(settings, role=Role.RM, subject=str(rm["rm"])),
                    "marketer": mint_token(
                        settings, role=Role.MARKETER, subject=f"load-marketer-{number}"
                    ),
                    "risk": mint_token(settings, role=Role.RISK, subject=f"load-risk-{number}"),
                },
            }
        )
    return {"customers": ids, "product": product["id"], "people": persons}


# --- running it ------------------------------------------------------------------------------
def _start_api(
    settings: CrkgSettings, bolt_port: int, port: int, log: Path
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRKG_")}
    env.update(
        CRKG_DATA_DIR=str(settings.data_dir),
        CRKG_LOCAL_INSTANCE=settings.local_instance,
        CRKG_LOCAL_BOLT_PORT=str(bolt_port),  # the proxy in front of the server
        CRKG_NEO4J_DATABASE=settings.neo4j_database,
        CRKG_ENVIRONMENT=settings.environment.value,
        CRKG_NEO4J_CONNECTION_TIMEOUT_SECONDS="2",
    )
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]  # fmt: skip
    with log.open("wb") as output:  # the API's log (an INTERNAL_ERROR's reference is there)
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)


def _wait_ready(base: str, server: subprocess.Popen[bytes], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the API process exited before it was ready")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the API at {base} was not ready within {seconds:.0f} s")


def _sample_memory(pid: int, into: list[tuple[float, int]], stop: threading.Event) -> None:
    process = psutil.Process(pid)
    while not stop.wait(1.0):
        try:
            into.append((time.time(), process.memory_info().rss))
        except psutil.Error:
            return


FaultStep = Callable[[], Fault]


def run_load(
    settings: CrkgSettings,
    proxy: object,
    faults: list[tuple[float, FaultStep]],
    *,
    users: int,
    seconds: float,
    warmup: float,
    workdir: Path,
    port: int = 8766,
) -> LoadReport:
    """locust for ``seconds`` against an API behind ``proxy`` (a started FaultProxy); each
    ``(at, step)`` of ``faults`` runs ``step`` ``at`` seconds after the warm-up."""
    plan, record = workdir / "plan.json", workdir / "requests.csv"
    plan.write_text(json.dumps(asyncio.run(make_plan(settings, users))), encoding="utf-8")
    api = _start_api(settings, int(proxy.port), port, workdir / "api.log")  # type: ignore[attr-defined]
    base = f"http://127.0.0.1:{port}"
    memory: list[tuple[float, int]] = []
    stop = threading.Event()
    done: list[Fault] = []
    try:
        _wait_ready(base, api)
        sampler = threading.Thread(target=_sample_memory, args=(api.pid, memory, stop), daemon=True)
        sampler.start()
        env = dict(os.environ, CRKG_LOAD_PLAN=str(plan), CRKG_LOAD_RECORD=str(record))
        locust = subprocess.Popen(
            [str(Path(sys.executable).with_name("locust")), "-f", str(LOCUSTFILE), "--headless",
             "-u", str(users), "-r", str(users), "--run-time", f"{int(seconds + warmup)}s",
             "--host", base, "--only-summary", "--loglevel", "ERROR", "--stop-timeout", "10"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        measured_from = time.time() + warmup
        for at, step in sorted(faults, key=lambda item: item[0]):
            time.sleep(max(0.0, measured_from + at - time.time()))
            done.append(step())
        _, errors = locust.communicate(timeout=seconds + warmup + 120)
        if not record.exists():
            raise SystemExit(f"locust wrote no records: {errors.decode()[-2000:]}")
    finally:
        stop.set()
        api.terminate()
        api.wait(timeout=30)
    with record.open(encoding="utf-8", newline="") as handle:
        requests = [
            Request(float(r["at"]), r["read"], float(r["ms"]), int(r["status"]), r["error"])
            for r in csv.DictReader(handle)
        ]
    return LoadReport(requests, done, measured_from, memory)


def print_report(report: LoadReport, title: str) -> None:
    baseline = p95(report.baseline())
    print(f"\n{title}")
    print("mix (share of requests): " + ", ".join(f"{k} {v:.0f}%" for k, v in report.mix().items()))
    print(f"requests: {len(report.requests):,}; HTTP statuses: {report.statuses()}")
    outside = report.outside()
    rate = report.error_rate_outside()
    print(f"{'measure':<52}{'value':>12}{'target':>10}  verdict")
    print(f"{'errors outside the fault windows':<52}{rate:>11.2%} {'< 1%':>10}  "
          f"{'met' if rate < 0.01 else 'NOT met'}  ({len(outside):,} requests"
          f"{'; ' + str(report.errors(outside)) if report.errors(outside) else ''})")  # fmt: skip
    print(f"{'p95 baseline (ms)':<52}{baseline:>12.1f}")
    for fault in report.faults:
        during = report.during(fault)
        failed = sum(not r.ok for r in during)
        print(f"{'p95 during ' + fault.name + ' (ms, answered ok)':<52}{p95(during):>12.1f}"
              f"{'':>10}  ({failed:,} of {len(during):,} failed, "
              f"{fault.ended - fault.started:.1f} s)")  # fmt: skip
        recovered = report.recovery_seconds(fault)
        shown = "never" if recovered is None else f"{recovered:.0f} s"
        verdict = recovered is not None and recovered <= RECOVERY_TARGET_SECONDS
        print(f"{'  p95 back within 1.2x of baseline after':<52}{shown:>12}"
              f"{'<= 30 s':>10}  {'met' if verdict else 'NOT met'}")  # fmt: skip
    print(f"{'p95 after the faults (ms)':<52}{p95(report.after()):>12.1f}")
    if report.memory:
        warm = [rss for at, rss in report.memory if at >= report.measured_from] or [0]
        peak, first, last = max(rss for _, rss in report.memory), warm[0], warm[-1]
        print(f"{'API memory after warm-up / peak / end (MiB)':<52}"
              f"{first / 2**20:>5.0f} / {peak / 2**20:.0f} / {last / 2**20:.0f}"
              f"{'':>4}  end/start {last / max(first, 1):.2f}x")  # fmt: skip


def main() -> None:
    from bench.algorithms import _ensure_loaded  # the bench instance's bank, as bench.api
    from tests.support.faultproxy import FaultProxy

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=Path(".crkg"))
    parser.add_argument("--users", type=int, default=16, help="concurrent locust users")
    parser.add_argument("--baseline", type=float, default=60, help="seconds before the faults")
    parser.add_argument("--after", type=float, default=90, help="seconds after the restart")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--prepare-only", action="store_true", help="load the bank and run what the reads need"
    )
    args = parser.parse_args()
    settings = CrkgSettings(data_dir=args.data_dir, local_instance="bench", local_bolt_port=7689)
    _ensure_loaded(settings, settings.local_instance, args.customers, args.seed, False)
    if args.prepare_only:
        asyncio.run(make_plan(settings, args.users))
        return
    server = LocalNeo4j(settings)
    workdir = settings.resolved_data_dir / "load-faults"
    workdir.mkdir(parents=True, exist_ok=True)
    with FaultProxy(settings.local_bolt_port) as proxy:

        def reset() -> Fault:
            now = time.time()
            proxy.reset()
            return Fault("connection resets", now, time.time())

        def restart() -> Fault:
            now = time.time()
            server.stop()
            server.start()
            return Fault("Neo4j restart", now, time.time())

        # the restart's length is not known in advance: the run is long enough for it
        report = run_load(
            settings,
            proxy,
            [(args.baseline, reset), (args.baseline + 20, restart)],
            users=args.users,
            seconds=args.baseline + 20 + 60 + args.after,
            warmup=10,
            workdir=workdir,
            port=args.port,
        )
    print_report(
        report,
        f"load with faults: {args.customers:,} customers, {args.users} locust users, "
        f"{os.cpu_count()} cores shared by Neo4j, the API and locust",
    )


if __name__ == "__main__":
    main()
