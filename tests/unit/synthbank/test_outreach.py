"""The synthetic bank plants what suppression reads (issue 12): every code has real cases
(that the files pass the contract: test_generator.py, test_clean_output_passes_the_contract)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from synthbank.bank import generate_bank
from synthbank.util import REF_DATE
from tests.support.banks import read_csv

REF = date.fromisoformat(REF_DATE)


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("outreach") / "bank"
    generate_bank(out, customers=2_000, seed=5)
    return out


def test_consents_are_granted_withdrawn_and_granted_again(bank: Path) -> None:
    rows = read_csv(bank / "consents.csv")
    statuses = Counter(r["status"] for r in rows)
    assert statuses["GRANTED"] > statuses["WITHDRAWN"] > 0
    history: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for r in rows:
        history[(r["customer_id"], r["channel"])].append((r["day"], r["status"]))
    regranted = [h for h in history.values() if [s for _, s in sorted(h)] == ["WITHDRAWN",
                                                                             "GRANTED"]]  # fmt: skip
    assert regranted, "some withdrew and granted again later: the latest decides"
    assert all(date.fromisoformat(r["day"]) < REF for r in rows)


def test_opt_outs_complaints_and_contacts_give_every_code_cases(bank: Path) -> None:
    opt_outs = read_csv(bank / "opt_outs.csv")
    assert any(r["channel"] == "" for r in opt_outs), "opted out of every channel"
    assert any(r["channel"] == "SMS" for r in opt_outs)
    assert read_csv(bank / "complaints.csv")
    contacts = read_csv(bank / "contacts.csv")
    window = REF - timedelta(days=30)
    recent = Counter(r["customer_id"] for r in contacts if date.fromisoformat(r["day"]) > window)
    assert any(n >= 2 for n in recent.values()), "some customers are over a cap of 2 in 30 days"
    assert any(n == 1 for n in recent.values()), "and some just under it"
    assert any(r["campaign_id"] for r in contacts)
    assert any(not r["campaign_id"] for r in contacts)
