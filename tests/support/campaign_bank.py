"""A hand-built bank for the campaign loop (issue 12): holders H1..H3 of product P1 with friends
T01..T12 (the targets); after the referral run :func:`plants` adds consents, opt-outs,
complaints and contacts and changes a few customers (a rating, a holding), so each suppression
code has a customer it must hit. RM1 manages the holders and T01..T06, RM2 T07..T12.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

from neo4j import AsyncDriver

from algorithms.registry import Engine
from algorithms.runner import run_algorithm
from graph.settings import CrkgSettings
from graph.store import GraphStore
from loaders.pipeline import Loader
from tests.conftest import load_into_empty_db
from tests.support.banks import query

AS_OF = date(2026, 6, 30)
TARGETS = [f"T{i:02d}" for i in range(1, 13)]
RM = {c: "RM2" if c in TARGETS[6:] else "RM1" for c in ["H1", "H2", "H3", *TARGETS]}
FLAGGED = {"T06", "H3"}  # risk-flagged by the plants (risk_rating 5)
INTRODUCER = {t: ("H3" if t in ("T11", "T12") else f"H{1 + i % 2}") for i, t in enumerate(TARGETS)}


def write(folder: Path, name: str, rows: Sequence[Mapping[str, object]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def day(days: int) -> str:
    return (AS_OF + timedelta(days=days)).isoformat()


def bank(folder: Path) -> Path:
    customer = {"kind": "PERSON", "consent_marketing": "true", "risk_rating": "1"}
    people = [{"customer_id": c, "name": f"客户{c}", "phone": f"1380000{i:04d}", "rm_id": RM[c],
               **customer} for i, c in enumerate(["H1", "H2", "H3", *TARGETS])]  # fmt: skip
    write(
        folder, "relationship_managers", [{"rm_id": r, "name": f"经理{r}"} for r in ("RM1", "RM2")]
    )
    write(folder, "customers", people)
    write(folder, "products", [{"product_id": "P1", "name": "卡", "category": "CREDIT_CARD"}])
    write(folder, "holdings", [{"customer_id": h, "product_id": "P1"} for h in ("H1", "H2", "H3")])
    write(
        folder,
        "social",
        [
            {"src_id": INTRODUCER[t], "dst_id": t, "kind": "FRIEND", "strength": "0.8"}
            for t in TARGETS
        ],
    )
    return folder


def plants(folder: Path) -> Path:
    """What the bank learns after the referral run: one planted case per suppression code."""
    write(
        folder,
        "consents",
        [
            {"consent_id": "K1", "customer_id": "T01", "purpose": "MARKETING", "channel": "SMS",
             "status": "WITHDRAWN", "day": day(-10)},
            {"consent_id": "K2", "customer_id": "T02", "purpose": "MARKETING", "channel": "SMS",
             "status": "WITHDRAWN", "day": day(-20)},
            {"consent_id": "K3", "customer_id": "T02", "purpose": "MARKETING", "channel": "SMS",
             "status": "GRANTED", "day": day(-5)},
            # withdrawn for another channel only: T04 stays
            {"consent_id": "K4", "customer_id": "T04", "purpose": "MARKETING", "channel": "EMAIL",
             "status": "WITHDRAWN", "day": day(-5)},
        ],
    )  # fmt: skip
    write(
        folder,
        "opt_outs",
        [
            {"opt_out_id": "O1", "customer_id": "T03", "channel": "SMS", "day": day(-3)},
            {"opt_out_id": "O2", "customer_id": "T04", "channel": "EMAIL", "day": day(-3)},
        ],
    )
    write(folder, "complaints", [{"complaint_id": "X1", "customer_id": "T05", "day": day(-10)}])
    write(
        folder,
        "contacts",
        [
            # T08: two contacts inside (AS_OF - 30, AS_OF]: capped at max_contacts 2
            {"contact_id": "M1", "customer_id": "T08", "channel": "SMS", "day": day(-5)},
            {"contact_id": "M2", "customer_id": "T08", "channel": "PHONE", "day": day(-29)},
            # T09: one inside, one exactly 30 days back (outside the window)
            {"contact_id": "M3", "customer_id": "T09", "channel": "SMS", "day": day(-5)},
            {"contact_id": "M4", "customer_id": "T09", "channel": "SMS", "day": day(-30)},
            # T10: one inside, one after AS_OF (not yet history on AS_OF)
            {"contact_id": "M5", "customer_id": "T10", "channel": "SMS", "day": day(-1)},
            {"contact_id": "M6", "customer_id": "T10", "channel": "SMS", "day": day(1)},
        ],
    )
    flagged = {"kind": "PERSON", "consent_marketing": "true", "risk_rating": "5"}
    write(
        folder,
        "customers",
        [
            # risk-flagged since the run; H3 is the introducer of T11 and T12
            {"customer_id": "T06", "name": "客户T06", "rm_id": "RM1", **flagged},
            {"customer_id": "H3", "name": "客户H3", "rm_id": "RM1", **flagged},
        ],
    )
    write(folder, "holdings", [{"customer_id": "T07", "product_id": "P1"}])
    return folder


EXPECTED_CODES = {
    "T01": ["NO_CONSENT"],
    "T03": ["OPTED_OUT"],
    "T05": ["COMPLAINT"],
    "T06": ["RISK_FLAGGED"],
    "T07": ["HOLDS_PRODUCT"],
    "T08": ["CONTACT_CAP"],
    "T11": ["NO_INTRODUCER"],
    "T12": ["NO_INTRODUCER"],
}


async def campaign_store(
    driver: AsyncDriver, settings: CrkgSettings, root: Path, *algorithms: str
) -> GraphStore:
    """The bank loaded into the emptied test database, the referral targets of P1 (and
    ``algorithms``) run in-process on it, then the plants loaded."""
    store = await load_into_empty_db(driver, settings, bank(root / "bank"), root / "rejects")
    await run_algorithm(store, settings, "referral_targets", {"product_id": "P1"},
                        engine=Engine.INPROC)  # fmt: skip
    for name in algorithms:
        await run_algorithm(store, settings, name, {}, engine=Engine.INPROC)
    stored = await query(store, "MATCH (c)-[:REFERRAL_TARGET]->() RETURN c.customer_id AS id")
    assert {r["id"] for r in stored} == set(TARGETS), "every friend of a holder is a target"
    report = await Loader(store, settings, rejects_dir=root / "rejects").load(
        plants(root / "plants")
    )
    assert report.rows_rejected == 0, report.to_json()
    return store
