"""`crkg load`: every row accounted for, idempotent, incremental, and crash-safe."""

from __future__ import annotations

import csv
import json
import os
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from neo4j import AsyncDriver

from graph.errors import CrkgError
from graph.localserver.manager import LocalNeo4j
from graph.repositories.loads import LoadRepository
from graph.repositories.schema import SchemaRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore, open_driver
from loaders.pipeline import Loader, TooManyRejectsError
from loaders.rejects import RejectReason
from tests.conftest import cli_env, load_into_empty_db
from tests.integration.exports import CUSTOMER_COLUMNS, write_bank, write_csv
from tests.support.banks import query
from tests.support.fingerprint import graph_fingerprint

pytestmark = pytest.mark.db


@pytest.fixture
async def db(empty_db: GraphStore) -> GraphStore:
    await SchemaRepository(empty_db).apply()
    return empty_db


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """An empty folder for a test's own export files."""
    folder = tmp_path / "export"
    folder.mkdir()
    return folder


def _loader(store: GraphStore, settings: CrkgSettings, tmp_path: Path, **kw: Any) -> Loader:
    return Loader(store, settings, rejects_dir=tmp_path / "reports", **kw)


async def _graph(store: GraphStore) -> tuple[dict[str, int], dict[str, int]]:
    labels, types = await LoadRepository(store).counts()
    labels.pop("LoadRun", None)
    labels.pop("SchemaVersion", None)
    return ({k: v for k, v in labels.items() if v}, {k: v for k, v in types.items() if v})


async def test_bad_rows_are_rejected_with_file_line_and_reason(
    db: GraphStore, test_settings: CrkgSettings, tmp_path: Path, export: Path
) -> None:
    write_csv(
        export / "relationship_managers.csv",
        ("rm_id", "name", "branch_id"),
        [("RM1", "李娜", "BR1")],
    )
    write_csv(export / "customers.csv", CUSTOMER_COLUMNS, [
        ("C1", "PERSON", "张伟", "上海", "BR1", "RM1", "1000", "2", "true", "2020-01-02", "", "", "", ""),
        ("C2", "ALIEN", "x", "", "", "", "", "", "", "", "", "", "", ""),
        ("C1", "PERSON", "张伟", "上海", "BR1", "RM1", "1000", "2", "true", "2020-01-02", "", "", "", ""),
        ("C3", "PERSON", "", "", "", "", "", "", "", "", "", "", "", ""),
        ("C4", "PERSON", "王五", "", "", "RM404", "", "", "", "", "", "", "", ""),
        ("C5", "PERSON", "赵六", "", "", "", "abc", "", "", "", "", "", "", ""),
        ("C6", "PERSON", "钱七", "", "", "", "", "9", "", "", "", "", "", ""),
        ("C7", "PERSON", "孙八", "", "", "", "", "", "maybe", "", "", "", "", ""),
        ("C8", "PERSON", "周九", "", "", "", "", "", "", "2026-13-45", "", "", "", ""),
        ("C9", "COMPANY", "吴氏集团", "", "", "", "", "", "", "", "", "", "", ""),
    ])  # fmt: skip
    with (export / "customers.csv").open("ab") as handle:  # a name that is not UTF-8
        handle.write(b"C10,PERSON,\xff\xfe,,,,,,,,,,,\n")
    write_csv(
        export / "social.csv",
        ("src_id", "dst_id", "kind", "strength", "since"),
        [
            ("C1", "C9", "FRIEND", "0.5", ""),
            ("C1", "C1", "FRIEND", "0.5", ""),
            ("C1", "C404", "FRIEND", "0.5", ""),
            ("C1", "C9", "ENEMY", "0.5", ""),
        ],
    )
    report = await _loader(db, test_settings, tmp_path).load(export)

    by_file = {f.file: f for f in report.files}
    assert all(f.balanced for f in report.files)
    assert (by_file["customers"].rows_read, by_file["customers"].rows_loaded) == (11, 2)
    assert by_file["customers"].reasons == {
        "BAD_BOOLEAN": 1, "BAD_DATE": 1, "BAD_ENUM": 1, "BAD_NUMBER": 1, "BAD_UTF8": 1,
        "DANGLING_REFERENCE": 1, "DUPLICATE_KEY": 1, "MISSING_REQUIRED": 1, "OUT_OF_RANGE": 1,
    }  # fmt: skip
    assert by_file["social"].reasons == {"BAD_ENUM": 1, "DANGLING_REFERENCE": 1, "SELF_LOOP": 1}

    rejects_file = Path(report.rejects_file)
    assert stat.S_IMODE(rejects_file.stat().st_mode) == 0o600
    with rejects_file.open(encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    assert len(rejects) == report.rows_rejected == 12
    where = {(r["file"], int(r["line"])): r for r in rejects}
    assert where[("customers", 3)]["reason_code"] == RejectReason.BAD_ENUM
    assert where[("customers", 3)]["column"] == "kind"
    assert where[("customers", 4)]["reason_code"] == RejectReason.DUPLICATE_KEY
    assert "line 2" in where[("customers", 4)]["message"]
    assert where[("customers", 12)]["reason_code"] == RejectReason.BAD_UTF8
    assert json.loads(where[("customers", 6)]["raw_row"])["rm_id"] == "RM404"

    labels, types = await _graph(db)
    assert labels == {"Customer": 2, "RelationshipManager": 1}
    assert types == {"FRIEND": 1, "MANAGED_BY": 1}
    records = await query(
        db,
        "MATCH (r:LoadRun {run_id: $id}) RETURN r.rows_read AS read, r.rows_loaded AS loaded, "
        "r.rows_rejected AS rejected, r.status AS status",
        id=report.run_id,
    )
    assert records[0] == {
        "read": 16,
        "loaded": 4,
        "rejected": 12,
        "status": "SUCCEEDED_WITH_REJECTS",
    }


async def test_loading_twice_changes_nothing_and_counts_match(
    db: GraphStore, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    rows = write_bank(tmp_path / "bank", customers=300, ties=1500)
    first = await _loader(db, test_settings, tmp_path, batch_size=400).load(tmp_path / "bank")
    assert first.rows_rejected == 0
    assert {f.file: f.rows_loaded for f in first.files} == rows
    labels, types = await _graph(db)
    assert labels == {"Customer": 300, "RelationshipManager": 10}
    assert sum(types.get(t, 0) for t in ("FRIEND", "FAMILY", "COLLEAGUE")) == 1500
    assert types["TRANSFERRED_TO"] == rows["transfers"]
    assert types["MANAGED_BY"] == 300
    before = await graph_fingerprint(db)

    second = await _loader(db, test_settings, tmp_path, batch_size=400).load(tmp_path / "bank")
    assert second.rows_loaded == first.rows_loaded
    assert second.rows_changed == 0
    assert await _graph(db) == (labels, types)
    assert await graph_fingerprint(db) == before


async def test_an_incremental_export_updates_in_place_and_deletes(
    db: GraphStore, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    write_bank(tmp_path / "bank", customers=50, ties=100)
    await _loader(db, test_settings, tmp_path).load(tmp_path / "bank")
    delta = tmp_path / "delta"
    delta.mkdir()
    write_csv(delta / "customers.csv", (*CUSTOMER_COLUMNS, "op"), [
        ("C0000001", "PERSON", "改名了", "北京", "BR2", "RM3", "42", "3", "false", "2020-01-01",
         "", "", "", "", "UPSERT"),
        ("C0000002", "", "", "", "", "", "", "", "", "", "", "", "", "", "DELETE"),
    ])  # fmt: skip
    report = await _loader(db, test_settings, tmp_path).load(delta)
    assert report.rows_changed == 2

    records = await query(
        db,
        "MATCH (c:Customer {customer_id: 'C0000001'})-[:MANAGED_BY]->(rm) "
        "RETURN c.name AS name, c.city AS city, c.last_active_at AS last_active, rm.rm_id AS rm, "
        "c.crkg_load_id AS load_id",
    )
    assert records[0] == {
        "name": "改名了",
        "city": "北京",
        "last_active": None,
        "rm": "RM3",
        "load_id": report.run_id,
    }
    labels, _ = await _graph(db)
    assert labels["Customer"] == 49

    # a later export that leaves out optional columns must not wipe them (nor the RM link)
    partial = tmp_path / "partial"
    partial.mkdir()
    write_csv(
        partial / "customers.csv",
        ("customer_id", "kind", "name", "aum"),
        [("C0000001", "PERSON", "改名了", "43")],
    )
    third = await _loader(db, test_settings, tmp_path).load(partial)
    assert third.rows_changed == 1
    records = await query(
        db,
        "MATCH (c:Customer {customer_id: 'C0000001'})-[:MANAGED_BY]->(rm) "
        "RETURN c.city AS city, c.aum_minor AS aum, rm.rm_id AS rm",
    )
    assert records[0] == {"city": "北京", "aum": 4300, "rm": "RM3"}  # minor units


async def test_an_unreadable_file_fails_the_load_before_any_write(
    db: GraphStore, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    write_bank(tmp_path / "bank", customers=5, ties=4)
    write_csv(tmp_path / "bank" / "products.csv", ("product_id", "category"), [("P1", "LOAN")])
    with pytest.raises(CrkgError, match=r"products\.csv.*name"):
        await _loader(db, test_settings, tmp_path).load(tmp_path / "bank")
    assert await _graph(db) == ({}, {})


async def test_max_reject_ratio_turns_rejects_into_a_failure(
    db: GraphStore, test_settings: CrkgSettings, tmp_path: Path, export: Path
) -> None:
    write_csv(
        export / "customers.csv",
        CUSTOMER_COLUMNS,
        [
            ("C1", "PERSON", "张伟", *[""] * 11),
            ("C2", "ALIEN", "x", *[""] * 11),
        ],
    )
    with pytest.raises(TooManyRejectsError, match="1 of 2 rows rejected"):
        await _loader(db, test_settings, tmp_path, max_reject_ratio=0.1).load(export)


# --- crash safety ------------------------------------------------------------------------------
# the ties are written in 20 batches: the kill lands between the first and the last
CRASH_CUSTOMERS, CRASH_TIES, CRASH_BATCH = 4_000, 20_000, 1_000


@dataclass(frozen=True)
class CrashBank:
    path: Path
    clean: list[Any]  # the fingerprint of one clean load of it


@pytest.fixture(scope="module")
async def crash_bank(
    driver: AsyncDriver, test_settings: CrkgSettings, tmp_path_factory: pytest.TempPathFactory
) -> CrashBank:
    """The bank both crash tests interrupt, and what one clean load of it gives (loaded once
    for the module; each test then starts from the emptied database)."""
    bank = tmp_path_factory.mktemp("crash") / "bank"
    write_bank(bank, customers=CRASH_CUSTOMERS, ties=CRASH_TIES)
    rejects = tmp_path_factory.mktemp("crash-rejects")
    store = await load_into_empty_db(driver, test_settings, bank, rejects)
    return CrashBank(bank, await graph_fingerprint(store))


async def _relationships(store: GraphStore) -> int:
    records, _, _ = await store.driver.execute_query(
        "MATCH ()-[r:FRIEND|FAMILY|COLLEAGUE]->() RETURN count(r) AS c", database_=store.database
    )
    return int(records[0]["c"])


def _start_load(bank: Path, settings: CrkgSettings) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cli",
            "load",
            str(bank),
            "--batch-size",
            str(CRASH_BATCH),
            "--json",
        ],
        env=cli_env(settings, CRKG_NEO4J_MAX_TRANSACTION_RETRY_SECONDS="5"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


async def _wait_for_progress(store: GraphStore, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        written = await _relationships(store)
        if written > 0:
            return written
        assert process.poll() is None, "the load finished before it could be interrupted"
        time.sleep(0.05)
    raise AssertionError("the load never started writing relationships")


async def test_killing_the_loader_then_loading_again_gives_one_clean_load(
    crash_bank: CrashBank, db: GraphStore, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    bank, expected = crash_bank.path, crash_bank.clean
    loader = _start_load(bank, test_settings)
    partial = await _wait_for_progress(db, loader)
    loader.send_signal(signal.SIGKILL)
    loader.wait(timeout=30)
    assert 0 < partial < CRASH_TIES
    assert 0 < await _relationships(db) < CRASH_TIES  # really half-way

    report = await _loader(db, test_settings, tmp_path, batch_size=CRASH_BATCH).load(bank)
    assert report.rows_rejected == 0
    assert await graph_fingerprint(db) == expected


async def test_killing_the_database_then_loading_again_gives_one_clean_load(
    crash_bank: CrashBank, db: GraphStore, test_settings: CrkgSettings, tmp_path: Path
) -> None:
    bank, expected = crash_bank.path, crash_bank.clean
    # Recovery replays the transaction log since the last checkpoint (every earlier test's
    # writes on a fresh test instance; Community Edition has no db.checkpoint() to call first).
    # On a loaded machine that outlasted the default start timeout, so this one restart waits
    # longer: the test is about what the crash leaves, not how fast recovery is.
    server = LocalNeo4j(test_settings.model_copy(update={"local_start_timeout_seconds": 600.0}))
    loader = _start_load(bank, test_settings)
    await _wait_for_progress(db, loader)
    pid = server.running_pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # no shutdown: Neo4j must recover from its transaction log
    _, stderr = loader.communicate(timeout=120)
    assert loader.returncode != 0
    assert b"Traceback" not in stderr
    assert b"not reachable" in stderr or b"Neo4j" in stderr

    status = server.start()  # recovers the database
    assert status.running
    driver = await open_driver(test_settings)
    try:
        store = GraphStore.from_settings(driver, test_settings)
        assert 0 < await _relationships(store) < CRASH_TIES
        report = await _loader(store, test_settings, tmp_path, batch_size=CRASH_BATCH).load(bank)
        assert report.rows_rejected == 0
        assert await graph_fingerprint(store) == expected
    finally:
        await driver.close()
