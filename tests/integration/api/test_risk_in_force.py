"""Risk answers on a small planted bank: only guarantees in force count, and a stored answer
names its coverage.

The bank is written as contract files and loaded, so the guarantees carry the `start` and
`end` a bank exports; dates are relative to today (the default as-of date of every run).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from neo4j import AsyncDriver

from algorithms.runner import run_algorithm
from api.app import create_app
from api.security.auth import Role
from graph.settings import CrkgSettings
from graph.store import GraphStore
from tests.integration.api_client import Api, api_for, codes
from tests.support.banks import loaded_with

pytestmark = pytest.mark.db

TODAY = datetime.now(UTC).date()
LONG_AGO = TODAY - timedelta(days=700)
ENDED = TODAY - timedelta(days=30)  # before the as-of date: no longer in force
LATER = TODAY + timedelta(days=300)

# (guarantor, borrower, amount, start, end)
GUARANTEES: list[tuple[str, str, str, date, date | None]] = [
    # a live circle A -> B -> C -> A
    ("A", "B", "100.00", LONG_AGO, None),
    ("B", "C", "200.00", LONG_AGO, LATER),
    ("C", "A", "300.00", LONG_AGO, None),
    # a circle D -> E -> F -> D whose link E -> F has ended: historical, not live
    ("D", "E", "10.00", LONG_AGO, None),
    ("E", "F", "20.00", LONG_AGO, ENDED),
    ("F", "D", "30.00", LONG_AGO, None),
    # G guarantees A (in force) and H (ended)
    ("G", "A", "1000.00", LONG_AGO, None),
    ("G", "H", "5000.00", LONG_AGO, ENDED),
    # the controller X of company Y: X backs B (in force), Y backed H (ended)
    ("X", "B", "700.00", LONG_AGO, None),
    ("Y", "H", "900.00", LONG_AGO, ENDED),
]
# a three-hop fund cycle within a day
TRANSFERS = [
    ("T1", "T2", "50.00", "2026-01-05T09:00:00"),
    ("T2", "T3", "40.00", "2026-01-05T10:00:00"),
    ("T3", "T1", "30.00", "2026-01-05T11:00:00"),
]
COMPANIES = {"X", "Y"}


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("in-force-bank")
    ids = sorted(
        {g[0] for g in GUARANTEES} | {g[1] for g in GUARANTEES} | {t[0] for t in TRANSFERS}
    )
    _write(
        out / "customers.csv",
        ["customer_id", "kind", "name"],
        [[c, "COMPANY" if c in COMPANIES or len(c) == 1 else "PERSON", f"客户{c}"] for c in ids],
    )
    _write(
        out / "guarantees.csv",
        ["guarantor_id", "borrower_id", "amount", "start", "end"],
        [
            [g, b, a, s.isoformat(), "" if e is None else e.isoformat()]
            for g, b, a, s, e in GUARANTEES
        ],
    )
    _write(
        out / "transfers.csv", ["src_id", "dst_id", "amount", "at"], [list(t) for t in TRANSFERS]
    )
    _write(out / "shareholdings.csv", ["holder_id", "company_id", "pct"], [["X", "Y", "60"]])
    return out


# what each stored run searched, which the NOT_COMPUTED answers below name
RUNS = (
    ("guarantee_circles", {"max_length": 3}),
    ("fund_cycles", {"max_length": 3}),
    ("identifier_rings", {"min_size": 3}),
    "control_groups",
    ("exposure", {"hops": 1}),
)


@pytest.fixture(scope="module")
async def loaded(
    driver: AsyncDriver, test_settings: CrkgSettings, bank: Path, tmp_path_factory: Any
) -> GraphStore:
    return await loaded_with(driver, test_settings, bank, tmp_path_factory, RUNS)


@pytest.fixture(scope="module")
def risk(loaded: GraphStore, test_settings: CrkgSettings) -> Iterator[Api]:
    with TestClient(create_app(test_settings)) as client:
        yield api_for(client, test_settings, Role.RISK, "risk-in-force")


# --- finding 4: ended guarantees do not count ----------------------------------------------------
async def test_a_circle_with_an_ended_link_is_not_found(
    loaded: GraphStore, test_settings: CrkgSettings
) -> None:
    today = await run_algorithm(loaded, test_settings, "guarantee_circles", {"max_length": 3})
    assert {tuple(m) for m in today.values.values()} == {("A", "B", "C")}
    assert today.parameters["as_of"] == TODAY.isoformat()  # recorded with the run
    # as of a day when E -> F was still in force, the D-E-F circle was live
    before = await run_algorithm(
        loaded,
        test_settings,
        "guarantee_circles",
        {"max_length": 3, "as_of": (ENDED - timedelta(days=1)).isoformat()},
    )
    assert {tuple(m) for m in before.values.values()} == {("A", "B", "C"), ("D", "E", "F")}
    await run_algorithm(loaded, test_settings, "guarantee_circles", {"max_length": 3})


async def test_the_stored_exposure_and_group_guarantees_count_only_guarantees_in_force(
    loaded: GraphStore, test_settings: CrkgSettings
) -> None:
    result = await run_algorithm(loaded, test_settings, "exposure", {"hops": 1})
    assert result.parameters["as_of"] == TODAY.isoformat()
    assert result.values["G"] == 100_000  # G -> A only; G -> H (5,000.00) has ended
    assert result.values["E"] == 0
    assert result.values["Y"] == 0
    groups = await run_algorithm(loaded, test_settings, "control_groups")
    assert groups.parameters["as_of"] == TODAY.isoformat()
    records, _, _ = await loaded.driver.execute_query(
        "MATCH (l:RiskLinkage {kind: 'CONTROL_GROUP'}) RETURN l.guarantees_out_minor AS out",
        database_=loaded.database,
    )
    assert [r["out"] for r in records] == [70_000]  # X -> B; Y -> H has ended


def test_circles_show_each_guarantee_with_its_dates(risk: Api) -> None:
    circles = risk.data(
        """{ guaranteeCircles(maxLength: 3) { asOf totalAmount { amount }
             members { customer { id } }
             links { guarantorId borrowerId amount { amount } start end } } }"""
    )["guaranteeCircles"]
    assert len(circles) == 1
    circle = circles[0]
    assert circle["asOf"] == TODAY.isoformat()
    assert [m["customer"]["id"] for m in circle["members"]] == ["A", "B", "C"]
    assert circle["links"] == [
        {
            "guarantorId": g,
            "borrowerId": b,
            "amount": {"amount": a},
            "start": s.isoformat(),
            "end": None if e is None else e.isoformat(),
        }
        for g, b, a, s, e in GUARANTEES[:3]
    ]
    assert Decimal(circle["totalAmount"]["amount"]) == Decimal("600.00")


def test_exposure_counts_guarantees_in_force_on_its_as_of_date(risk: Api) -> None:
    query = """query($asOf: Date) { exposure(customerId: "G", hops: 1, asOf: $asOf) {
                 asOf total { amount }
                 parties { customer { id } amount { amount }
                           guarantees { guarantorId borrowerId start end } } } }"""
    now = risk.data(query, asOf=None)["exposure"]
    assert now["asOf"] == TODAY.isoformat()
    assert now["total"]["amount"] == "1000.00"
    assert [p["customer"]["id"] for p in now["parties"]] == ["A"]
    assert now["parties"][0]["guarantees"] == [
        {"guarantorId": "G", "borrowerId": "A", "start": LONG_AGO.isoformat(), "end": None}
    ]
    earlier = risk.data(query, asOf=(ENDED - timedelta(days=1)).isoformat())["exposure"]
    assert earlier["total"]["amount"] == "6000.00"
    assert {p["customer"]["id"] for p in earlier["parties"]} == {"A", "H"}


def test_a_related_party_group_counts_guarantees_in_force(risk: Api) -> None:
    group = risk.data('{ relatedPartyGroup(customerId: "Y") { asOf guaranteesOut { amount } } }')[
        "relatedPartyGroup"
    ]
    assert group == {"asOf": TODAY.isoformat(), "guaranteesOut": {"amount": "700.00"}}


# --- finding 8: beyond what the stored run searched is NOT_COMPUTED ------------------------------
def _not_computed(risk: Api, query: str) -> str:
    """The message and hint of ``query``, which must fail as NOT_COMPUTED."""
    errors = risk.errors(query)
    assert codes(errors) == {"NOT_COMPUTED"}
    return errors[0]["message"] + str(errors[0]["extensions"].get("hint"))


def test_circles_longer_than_the_run_searched_are_not_computed(risk: Api) -> None:
    assert risk.data("{ guaranteeCircles(maxLength: 3) { length } }")["guaranteeCircles"]
    message = _not_computed(risk, "{ guaranteeCircles(maxLength: 4) { length } }")
    assert "max_length 3" in message
    assert "crkg algo run guarantee_circles -p max_length=4" in message


def test_fund_cycles_longer_than_the_run_searched_are_not_computed(risk: Api) -> None:
    found = risk.data("{ riskRings(kind: FUND_FLOW, minSize: 3) { size } }")["riskRings"]
    assert found == [{"size": 3}]
    message = _not_computed(risk, "{ riskRings(kind: FUND_FLOW, minSize: 4) { size } }")
    assert "max_length 3" in message
    assert "crkg algo run fund_cycles -p max_length=4" in message


def test_rings_smaller_than_the_run_kept_are_not_computed(risk: Api) -> None:
    assert risk.data("{ riskRings(kind: IDENTIFIER_RING, minSize: 3) { size } }")["riskRings"] == []
    message = _not_computed(risk, "{ riskRings(kind: IDENTIFIER_RING, minSize: 2) { size } }")
    assert "min_size 3" in message
    assert "crkg algo run identifier_rings -p min_size=2" in message
