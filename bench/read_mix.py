"""The read mix of the load-with-faults benchmark, by share of requests (out of 100).

Kept apart from ``bench/loadmix.py``: importing locust patches the importing process with
gevent, which the benchmark's driver and the tests must never be.
"""

from __future__ import annotations

from typing import Final

MIX: Final[dict[str, int]] = {
    "customer360": 35,
    "connections": 20,
    "paths": 10,
    "referralTargets": 15,
    "exposure": 10,
    "guaranteeCircles": 5,
    "riskLinkages": 5,
}
