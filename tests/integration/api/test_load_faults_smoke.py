"""Issue 16 item 5, the CI smoke of ``bench/load_faults.py``: half a minute of the read mix by
locust against the API (its own process) behind the fault proxy, with a connection reset and
a four-second cut of Neo4j part-way.

It checks what the benchmark reports, not how fast: the mix ran, no answer was a 500, the
error rate outside the fault windows is under 1%, the failures inside say "unavailable"
(HTTP 503, or a field's DATABASE_UNAVAILABLE), and every read after the faults is answered.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bench.load_faults import Fault, LoadReport, print_report, run_load
from bench.read_mix import MIX
from graph.settings import CrkgSettings
from graph.store import GraphStore
from tests.support.banks import module_bank
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.db

bank, smoke_db = module_bank(
    "load-smoke-bank",
    customers=400,
    seed=53,
    algorithms=("segmentation", "pagerank", "louvain", "guarantee_circles"),
    db_fixture="smoke_db",
)


@pytest.fixture(scope="module")
def proxy(smoke_db: GraphStore, test_settings: CrkgSettings) -> Iterator[FaultProxy]:
    with FaultProxy(test_settings.local_bolt_port) as faulty:
        yield faulty


@pytest.fixture(scope="module")
def report(
    proxy: FaultProxy, test_settings: CrkgSettings, tmp_path_factory: pytest.TempPathFactory
) -> LoadReport:
    def reset() -> Fault:
        now = time.time()
        proxy.reset()
        return Fault("connection resets", now, time.time())

    def cut() -> Fault:
        now, refused = time.time(), proxy.refused
        proxy.cut()
        time.sleep(4)
        proxy.restore()
        refused_in_cut.append(proxy.refused - refused)
        return Fault("Neo4j unreachable", now, time.time())

    refused_in_cut: list[int] = []
    report = run_load(
        test_settings,
        proxy,
        [(6, reset), (12, cut)],
        users=4,
        seconds=28,
        warmup=3,
        workdir=tmp_path_factory.mktemp("load-smoke"),
        port=8799,
    )
    # the cut was felt: the API tried to reach Neo4j during it and was refused
    assert refused_in_cut[0] > 0, refused_in_cut
    return report


def test_the_mix_ran_and_nothing_answered_500(report: LoadReport) -> None:
    assert len(report.requests) > 40  # four users for half a minute, on a loaded machine too
    assert set(report.mix()) == set(MIX), report.mix()
    assert 500 not in report.statuses(), report.statuses()
    assert set(report.statuses()) <= {200, 503}, report.statuses()


def test_errors_stay_outside_the_fault_windows_and_reads_recover(
    report: LoadReport, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = [r for r in report.outside() if not r.ok]
    assert report.error_rate_outside() < 0.01, (report.errors(report.outside()), outside[:5])
    _, cut = report.faults
    during = report.during(cut)
    assert during, "reads were in flight during the cut"
    # each failed as "unavailable" — a 503, a field's DATABASE_UNAVAILABLE beside fields
    # answered before the cut, or TIMEOUT when the deadline passed while the driver retried —
    # or, the driver retrying, was answered once the cut ended: which depends on timing (CI
    # saw a cut ridden out with no failure at all), so either is right
    unavailable = {"HTTP 503", "DATABASE_UNAVAILABLE", "TIMEOUT"}
    assert set(report.errors(during)) <= unavailable, report.errors(during)
    after = report.after()
    assert len(after) >= 10
    assert all(r.ok for r in after), [r for r in after if not r.ok][:3]
    assert report.memory, "the API's memory was sampled"
    print_report(report, "smoke")
    printed = capsys.readouterr().out
    assert "errors outside the fault windows" in printed
    assert "p95 during Neo4j unreachable" in printed
