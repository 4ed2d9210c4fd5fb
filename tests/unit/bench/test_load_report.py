"""The arithmetic of the load-with-faults report, on requests made up for it (no server)."""

from __future__ import annotations

from bench.load_faults import SETTLE_SECONDS, Fault, LoadReport, Request


def _steady(start: float, end: float, ms: float, *, ok: bool = True) -> list[Request]:
    return [Request(start + i * 0.1, "customer360", ms, 200 if ok else 503, "" if ok else "HTTP 503")
            for i in range(int((end - start) * 10))]  # fmt: skip


def test_errors_inside_a_fault_window_do_not_count_against_the_outside_rate() -> None:
    fault = Fault("restart", 100.0, 110.0)
    requests = [*_steady(0, 100, 10), *_steady(100, 110, 10, ok=False), *_steady(110, 200, 10)]
    report = LoadReport(requests, [fault], measured_from=0.0)
    assert report.error_rate_outside() == 0.0
    # one failure outside the windows is counted, among the requests outside
    late = Request(150.05, "paths", 10, 503, "HTTP 503")
    report = LoadReport([*requests, late], [fault], measured_from=0.0)
    outside = len(report.outside())
    assert report.error_rate_outside() == 1 / outside
    assert all(not fault.covers(r) for r in report.outside())
    assert fault.covers(Request(110.0 + SETTLE_SECONDS, "paths", 1, 200))
    # started before the fault, still waiting when it struck: inside the window
    assert fault.covers(Request(99.5, "paths", 600, 503, "HTTP 503"))


def test_recovery_is_when_a_window_p95_is_back_within_the_ratio() -> None:
    fault = Fault("restart", 100.0, 110.0)
    slow_then_fast = [*_steady(0, 100, 10), *_steady(110, 130, 40), *_steady(130, 200, 11)]
    report = LoadReport(slow_then_fast, [fault], measured_from=0.0)
    assert report.recovery_seconds(fault) == 20.0  # 11 ms <= 1.2 x 10 ms from t = 130
    never = LoadReport([*_steady(0, 100, 10), *_steady(110, 200, 40)], [fault], 0.0)
    assert never.recovery_seconds(fault) is None
