"""The locust users of the load-with-faults benchmark (``bench/load_faults.py`` starts locust
on this file in a process of its own: gevent patches the process it runs in).

The mix, by share of requests (task weights out of 100):

=====================  =====  =====================================================
read                   share  as whom
=====================  =====  =====================================================
customer 360             35%  an RM, customers of their own book
connections (depth 2)    20%  a marketer, any customer
warmest paths            10%  a marketer, between two customers
referral targets         15%  a marketer, the bank's product with stored targets
risk: exposure           10%  a risk analyst, any customer
risk: guarantee circles   5%  a risk analyst
risk: customer linkages   5%  a risk analyst, any customer
=====================  =====  =====================================================

Every request is recorded (wall time, read, latency, HTTP status, error) to the CSV file
``CRKG_LOAD_RECORD`` names; a request is ok (error empty) when it answers HTTP 200 with no
GraphQL errors, else the error is ``HTTP <status>`` or the first GraphQL error's code.
The customer ids, the product and one person per user (an RM with their book, a marketer
and a risk analyst, each with a token) come from ``CRKG_LOAD_PLAN`` (a JSON file the driver
writes).
"""

from __future__ import annotations

import atexit
import csv
import itertools
import json
import os
import random
import time
from typing import Any

from locust import HttpUser, between, task

from bench.read_mix import MIX

CUSTOMER_360 = """query Customer360($id: ID!) { customer(id: $id) {
  id kind city tier lifecycleStage name { masked } phone { masked }
  relationshipManager { id } products { productId } scenarios { scenarioId }
  communities { algorithm communityId } scores { pagerank degree } } }"""
CONNECTIONS = """query Connections($id: ID!) { connections(customerId: $id, depth: 2, first: 100) {
  nodes { hops customer { id } } ties { fromId toId kind strength } truncated } }"""
PATHS = """query Paths($a: ID!, $b: ID!) { paths(fromId: $a, toId: $b, k: 2, maxHops: 4) {
  customerIds hops strength } }"""
TARGETS = """query Targets($p: ID!) { referralTargets(productId: $p, first: 20) {
  rank score customer { id } } }"""
EXPOSURE = """query Exposure($id: ID!) { exposure(customerId: $id, hops: 2) {
  total { amount } partyCount } }"""
CIRCLES = """query Circles { guaranteeCircles(first: 20) { id length
  members { position customer { id } } } }"""
LINKAGES = """query Linkages($id: ID!) { customer(id: $id) { id
  riskLinkages { linkageId kind size } } }"""

_plan: dict[str, Any] = {}
# which customers are read: sampling, not secrecy
_rng = random.Random(int(os.environ.get("CRKG_LOAD_SEED", "7")))  # noqa: S311
_rows: list[tuple[float, str, float, int, str]] = []
_people = itertools.count()


def _load_plan() -> dict[str, Any]:
    if not _plan:
        with open(os.environ["CRKG_LOAD_PLAN"], encoding="utf-8") as handle:
            _plan.update(json.load(handle))
    return _plan


@atexit.register  # locust ends with sys.exit: the records are written once, at the end
def _write_records() -> None:
    path = os.environ.get("CRKG_LOAD_RECORD")
    if not path or not _rows:
        return
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("at", "read", "ms", "status", "error"))
        writer.writerows(_rows)


class BankUser(HttpUser):
    """One person of the bank at their desk: a read, a pause of 50-250 ms, the next read."""

    wait_time = between(0.05, 0.25)

    def on_start(self) -> None:
        plan = _load_plan()
        person = plan["people"][next(_people) % len(plan["people"])]  # one person per user
        self.ids: list[str] = plan["customers"]
        self.book: list[str] = person["book"]
        self.product: str = plan["product"]
        self.tokens: dict[str, str] = person["tokens"]

    def _ask(self, read: str, role: str, query: str, **variables: Any) -> None:
        started = time.time()
        with self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.tokens[role]}"},
            name=read,
            catch_response=True,
            timeout=30,
        ) as response:
            code = "" if response.status_code == 200 else f"HTTP {response.status_code}"
            if response.status_code == 200:
                try:
                    errors = response.json().get("errors") or []
                except ValueError:
                    errors, code = [], "NOT_JSON"
                if errors:
                    code = str((errors[0].get("extensions") or {}).get("code") or "UNCODED")
            if code:
                response.failure(f"{code}: {response.text[:200]}")
            else:
                response.success()
            elapsed = (time.time() - started) * 1000
            _rows.append((started, read, round(elapsed, 2), response.status_code, code))

    @task(MIX["customer360"])
    def customer360(self) -> None:
        self._ask("customer360", "rm", CUSTOMER_360, id=_rng.choice(self.book))

    @task(MIX["connections"])
    def connections(self) -> None:
        self._ask("connections", "marketer", CONNECTIONS, id=_rng.choice(self.ids))

    @task(MIX["paths"])
    def paths(self) -> None:
        a, b = _rng.sample(self.ids, 2)
        self._ask("paths", "marketer", PATHS, a=a, b=b)

    @task(MIX["referralTargets"])
    def referral_targets(self) -> None:
        self._ask("referralTargets", "marketer", TARGETS, p=self.product)

    @task(MIX["exposure"])
    def exposure(self) -> None:
        self._ask("exposure", "risk", EXPOSURE, id=_rng.choice(self.ids))

    @task(MIX["guaranteeCircles"])
    def guarantee_circles(self) -> None:
        self._ask("guaranteeCircles", "risk", CIRCLES)

    @task(MIX["riskLinkages"])
    def risk_linkages(self) -> None:
        self._ask("riskLinkages", "risk", LINKAGES, id=_rng.choice(self.ids))
