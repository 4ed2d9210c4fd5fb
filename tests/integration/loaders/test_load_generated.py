"""Loading the synthetic bank: rejects are exactly the planted bad rows, the database holds
exactly what was loaded, and the bulk import builds the same graph as the online load."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from graph.repositories.loads import LoadRepository
from graph.repositories.schema import SchemaRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore, open_driver
from loaders.bulk import bulk_load
from loaders.pipeline import Loader, LoadReport
from synthbank.bank import generate_bank

pytestmark = pytest.mark.db

# what each file's loaded rows become in the database
RELATIONSHIPS_OF_FILE = {
    "holdings": ("HOLDS",),
    "participation": ("PARTICIPATES_IN",),
    "partner_links": ("LINKED_TO",),
    "referrals": ("REFERRED",),
    "transfers": ("TRANSFERRED_TO",),
    "guarantees": ("GUARANTEES",),
    "shareholdings": ("HOLDS_SHARES",),
    "identifiers": ("USES",),
    "social": ("FAMILY", "SPOUSE", "FRIEND", "COLLEAGUE", "CLASSMATE", "BUSINESS"),
}
LABEL_OF_FILE = {
    "customers": "Customer",
    "relationship_managers": "RelationshipManager",
    "partners": "Partner",
    "products": "Product",
    "scenarios": "Scenario",
    "campaigns": "Campaign",
}


@pytest.fixture(scope="module")
def generated_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bank") / "export"
    generate_bank(out, customers=1500, seed=11, bad_row_rate=0.02)
    return out


def _planted(bank: Path) -> dict[tuple[str, int], str]:
    with (bank / "ground_truth" / "bad_rows.csv").open(encoding="utf-8") as handle:
        return {
            (row["file"].rsplit(".", 1)[0], int(row["line"])): row["reason_code"]
            for row in csv.DictReader(handle)
        }


def _rejected(report: LoadReport) -> dict[tuple[str, int], str]:
    with Path(report.rejects_file).open(encoding="utf-8") as handle:
        return {(r["file"], int(r["line"])): r["reason_code"] for r in csv.DictReader(handle)}


async def _assert_counts_equal_loaded(store: GraphStore, report: LoadReport) -> None:
    labels, types = await LoadRepository(store).counts()
    loaded = {f.file: f.rows_loaded for f in report.files}
    for file, label in LABEL_OF_FILE.items():
        assert labels.get(label, 0) == loaded[file], file
    for file, rel_types in RELATIONSHIPS_OF_FILE.items():
        assert sum(types.get(t, 0) for t in rel_types) == loaded[file], file


def _minor(text: str) -> int:
    whole, _, cents = text.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


async def _assert_money_and_rules_exact(store: GraphStore, bank: Path) -> None:
    """Money is stored as integer minor units equal to the export's text; rules as lists."""
    good = _planted(bank)
    with (bank / "customers.csv").open(encoding="utf-8", errors="surrogateescape") as handle:
        expected = {
            r["customer_id"]: _minor(r["aum"])
            for line, r in enumerate(csv.DictReader(handle), start=2)
            if ("customers", line) not in good and r["aum"]
        }
    records, _, _ = await store.driver.execute_query(
        "MATCH (c:Customer) WHERE c.aum_minor IS NOT NULL "
        "RETURN c.customer_id AS id, c.aum_minor AS aum, c.aum IS NULL AS no_float",
        database_=store.database,
    )
    stored = {r["id"]: r["aum"] for r in records}
    assert all(type(v) is int for v in stored.values())
    assert all(r["no_float"] for r in records)
    assert {k: stored[k] for k in expected} == expected
    records, _, _ = await store.driver.execute_query(
        "MATCH ()-[g:GUARANTEES]->() RETURN sum(g.amount_minor) AS total, "
        "count(g.amount) AS floats, "
        "COLLECT { MATCH (p:Product) WHERE p.eligible_kinds IS NOT NULL "
        "RETURN p.eligible_kinds } AS kinds",
        database_=store.database,
    )
    assert type(records[0]["total"]) is int
    assert records[0]["floats"] == 0
    assert ["COMPANY"] in records[0]["kinds"]
    assert all(isinstance(k, list) for k in records[0]["kinds"])


async def test_online_load_rejects_exactly_the_planted_rows(
    empty_db: GraphStore, test_settings: CrkgSettings, generated_bank: Path, tmp_path: Path
) -> None:
    await SchemaRepository(empty_db).apply()
    loader = Loader(empty_db, test_settings, rejects_dir=tmp_path)
    report = await loader.load(generated_bank)
    assert all(f.balanced for f in report.files)
    planted = _planted(generated_bank)
    assert len(planted) > 100
    assert _rejected(report) == planted
    await _assert_counts_equal_loaded(empty_db, report)
    await _assert_money_and_rules_exact(empty_db, generated_bank)

    again = await Loader(empty_db, test_settings, rejects_dir=tmp_path).load(generated_bank)
    assert again.rows_changed == 0
    await _assert_counts_equal_loaded(empty_db, again)


async def test_bulk_import_builds_the_graph_the_online_load_would(
    empty_db: GraphStore, test_settings: CrkgSettings, generated_bank: Path, tmp_path: Path
) -> None:
    report = await bulk_load(test_settings, generated_bank)
    assert _rejected(report) == _planted(generated_bank)
    # the import replaced the database under the session's driver: use a fresh one
    driver = await open_driver(test_settings)
    try:
        store = GraphStore.from_settings(driver, test_settings)
        await _assert_counts_equal_loaded(store, report)
        await _assert_money_and_rules_exact(store, generated_bank)
        state = await SchemaRepository(store).state()
        assert "customer_id_unique" in state.constraints
        online = await Loader(store, test_settings, rejects_dir=tmp_path).load(generated_bank)
        assert online.rows_changed == 0  # same properties, same hashes
    finally:
        await driver.close()
