"""A real bank export through its mapping file, and `crkg load --check` (nothing written), on
the real server. The export is the hand-written GBK fixture in ``tests/support/exports``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from graph.errors import CrkgError
from graph.repositories.schema import SchemaRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore
from loaders.mapping import load_mapping
from loaders.pipeline import Loader
from loaders.sources import UnreadableFileError
from tests.conftest import cli_env
from tests.unit.loaders.test_mapping import GBK_EXPORT, GBK_MAPPING

pytestmark = pytest.mark.db


@pytest.fixture
async def db(empty_db: GraphStore) -> GraphStore:
    await SchemaRepository(empty_db).apply()
    return empty_db


async def _rows(store: GraphStore, query: str) -> list[dict[str, Any]]:
    records, _, _ = await store.driver.execute_query(query, database_=store.database)
    return [record.data() for record in records]


async def _everything(store: GraphStore) -> int:
    """Every node and relationship but the schema marker, LoadRuns included."""
    rows = await _rows(
        store,
        "MATCH (n) WHERE NOT n:SchemaVersion OPTIONAL MATCH (n)-[r]->() "
        "RETURN count(DISTINCT n) + count(r) AS total",
    )
    return int(rows[0]["total"])


async def test_a_gbk_export_loads_through_its_mapping_with_no_reject(
    db: GraphStore, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    mapping = load_mapping(GBK_MAPPING)
    loader = Loader(db, test_settings, rejects_dir=tmp_path, mapping=mapping)
    report = await loader.load(GBK_EXPORT)
    assert report.status == "SUCCEEDED", report.to_json()
    counts = {f.file: (f.rows_read, f.rows_loaded, f.rows_skipped) for f in report.files}
    assert counts == {
        "relationship_managers": (2, 2, 0),
        "customers": (6, 5, 1),  # the footer of totals is skipped by the mapping's rule
        "social": (2, 2, 0),
        "guarantees": (2, 2, 0),
    }
    assert {(f.encoding, f.encoding_how) for f in report.files} == {("gb18030", "declared")}
    customers = await _rows(
        db,
        "MATCH (c:Customer)-[:MANAGED_BY]->(rm) RETURN c.customer_id AS id, c.name AS name, "
        "c.kind AS kind, c.aum_minor AS aum, c.risk_rating AS risk, "
        "c.consent_marketing AS consent, toString(c.onboarded_at) AS since, rm.name AS rm "
        "ORDER BY id",
    )
    assert customers[0] == {
        "id": "C001", "name": "张伟", "kind": "PERSON", "aum": 120050, "risk": 1,
        "consent": True, "since": "2019-03-01", "rm": "赵强",
    }  # fmt: skip
    assert [(c["kind"], c["risk"], c["aum"]) for c in customers[1:]] == [
        ("COMPANY", 5, 345000000), ("PERSON", 3, 80000), ("PERSON", 3, 1200000),
        ("COMPANY", 5, 56000075),
    ]  # fmt: skip
    guarantees = await _rows(
        db,
        "MATCH (a)-[g:GUARANTEES]->(b) RETURN a.customer_id AS a, g.amount_minor AS amount, "
        "toString(g.start) AS start ORDER BY a",
    )
    assert guarantees == [
        {"a": "C001", "amount": 1200000, "start": "2019-05-15"},
        {"a": "C002", "amount": 50000000, "start": "2019-03-01"},
    ]
    ties = await _rows(db, "MATCH (a)-[t:SPOUSE]->(b) RETURN toString(t.since) AS since")
    assert ties == [{"since": "2015-06-01"}]
    (run,) = await _rows(
        db,
        "MATCH (r:LoadRun) RETURN r.mapping_version AS version, r.mapping_sha256 AS sha, "
        "r.mapping_source_system AS system, r.files_json AS files",
    )
    assert (run["version"], run["system"], run["sha"]) == (
        "2026.12.1", "core_banking", mapping.sha256,
    )  # fmt: skip
    assert "examples" not in run["files"]
    assert {f["file"]: f["encoding"] for f in json.loads(run["files"])}["customers"] == "gb18030"
    again = await Loader(db, test_settings, rejects_dir=tmp_path, mapping=mapping).load(GBK_EXPORT)
    assert again.rows_changed == 0  # idempotent through the mapping too


async def test_check_validates_everything_and_writes_nothing(
    db: GraphStore, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    mapping = load_mapping(GBK_MAPPING)
    loader = Loader(db, test_settings, rejects_dir=tmp_path, mapping=mapping, check_only=True)
    report = await loader.load(GBK_EXPORT)
    assert (report.status, report.check_only) == ("CHECKED", True)
    assert report.rows_loaded == 11
    assert report.rows_skipped == 1
    assert await _everything(db) == 0

    # without the mapping: the source's file names, then its Chinese header, are refused
    # before anything is read, each saying what to map
    unmapped = Loader(db, test_settings, rejects_dir=tmp_path, check_only=True)
    with pytest.raises(CrkgError, match=r"(?s)客户信息.csv.*files.<name>.source"):
        await unmapped.load(GBK_EXPORT)
    named = tmp_path / "named"
    named.mkdir()
    shutil.copy(GBK_EXPORT / "客户信息.csv", named / "customers.csv")
    with pytest.raises(UnreadableFileError, match=r"客户号.*files\.customers\.columns"):
        await unmapped.load(named)

    # the same export with the contract's column names but the source's formats and words:
    # every row is rejected, each reason saying what to map
    export = tmp_path / "renamed"
    export.mkdir()
    original = (GBK_EXPORT / "客户经理.csv").read_bytes().decode("gb18030").splitlines()
    (export / "relationship_managers.csv").write_bytes(
        "\r\n".join(["rm_id,name,branch_id", *original[1:]]).encode("gb18030")
    )
    lines = (GBK_EXPORT / "客户信息.csv").read_bytes().decode("gb18030").splitlines()
    header = "customer_id,kind,name,city,rm_id,aum,risk_rating,onboarded_at,consent_marketing"
    (export / "customers.csv").write_bytes("\r\n".join([header, *lines[1:6]]).encode("gb18030"))
    unmapped = await Loader(db, test_settings, rejects_dir=tmp_path, check_only=True).load(export)
    customers = {f.file: f for f in unmapped.files}["customers"]
    assert customers.encoding == "gb18030"
    assert customers.encoding_how == "detected"
    assert (customers.rows_read, customers.rows_rejected) == (5, 5)
    assert customers.reasons == {"BAD_ENUM": 5}  # 个人 / 对公: the first failing column
    assert all("values: {kind: {" in str(e["message"]) for e in customers.examples)
    assert "mapping file (--mapping)" in str(customers.examples[0]["message"])
    assert await _everything(db) == 0

    shutil.copytree(GBK_EXPORT, tmp_path / "cli")
    result = subprocess.run(  # noqa: ASYNC221 - the CLI is the thing under test
        [sys.executable, "-m", "cli", "load", str(tmp_path / "cli"), "--check", "--mapping",
         str(GBK_MAPPING)],
        env=cli_env(test_settings, COLUMNS="200"),
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "check (nothing written)" in result.stdout
    assert "CHECKED" in result.stdout
    assert "customers: gb18030 (declared)" in result.stdout
    assert "1 rows skipped by the mapping" in result.stdout
    assert "core_banking version 2026.12.1" in result.stdout
    assert await _everything(db) == 0
