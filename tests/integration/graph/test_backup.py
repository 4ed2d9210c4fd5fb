"""`crkg backup` dumps the managed database and `crkg restore` loads it into another, small
instance (heap 512 MiB, its own port): the restored graph has the same fingerprint."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from graph.localserver.manager import LocalNeo4j
from graph.settings import CrkgSettings
from graph.store import open_driver
from synthbank.bank import generate_bank
from tests.conftest import cli_env, make_test_settings

pytestmark = pytest.mark.db

CRKG = [str(Path(sys.executable).with_name("crkg"))]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _small_instance(name: str) -> CrkgSettings:
    return make_test_settings(
        local_instance=name,
        local_bolt_port=_free_port(),
        local_heap_mib=512,
        local_pagecache_mib=128,
    )


def _crkg(settings: CrkgSettings, *arguments: str) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [*CRKG, *arguments],
        capture_output=True,
        text=True,
        env=cli_env(settings),
        check=False,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stderr
    return completed


async def _fingerprint(settings: CrkgSettings) -> dict[str, Any]:
    driver = await open_driver(settings)
    try:
        nodes, _, _ = await driver.execute_query(
            "MATCH (n) WITH labels(n) AS labels, count(*) AS n RETURN labels, n ORDER BY labels",
            database_=settings.neo4j_database,
        )
        ties, _, _ = await driver.execute_query(
            "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n, "
            "sum(coalesce(r.strength, 0)) AS strength ORDER BY type",
            database_=settings.neo4j_database,
        )
        customers, _, _ = await driver.execute_query(
            "MATCH (c:Customer) RETURN c.customer_id AS id, c.crkg_row_hash AS hash ORDER BY id",
            database_=settings.neo4j_database,
        )
        constraints, _, _ = await driver.execute_query(
            "SHOW CONSTRAINTS YIELD name RETURN name ORDER BY name",
            database_=settings.neo4j_database,
        )
    finally:
        await driver.close()
    return {
        "nodes": [tuple(r) for r in nodes],
        "ties": [(r["type"], r["n"], round(r["strength"], 6)) for r in ties],
        "customers": [tuple(r) for r in customers],
        "constraints": [r["name"] for r in constraints],
    }


async def test_a_backup_restores_into_another_instance_with_the_same_graph(
    tmp_path: Path,
) -> None:
    source, target = _small_instance("backup-source"), _small_instance("backup-target")
    bank = tmp_path / "bank"
    generate_bank(bank, customers=300, seed=5)
    try:
        _crkg(source, "neo4j", "start")
        _crkg(source, "init")
        _crkg(source, "load", str(bank))
        before = await _fingerprint(source)
        assert len(before["customers"]) >= 300  # a real graph, not an empty one
        assert before["ties"]
        written = _crkg(source, "backup", "--to", str(tmp_path / "backups"))
        [dump] = sorted((tmp_path / "backups").glob("neo4j-*.dump"))
        assert str(dump) in "".join(written.stdout.split())  # rich may wrap the line
        assert dump.stat().st_mode & 0o077 == 0  # the dump is the owner's only
        # the source was running before the backup: it runs again, with the same graph
        assert LocalNeo4j(source).running_pid() is not None
        assert await _fingerprint(source) == before

        # a fresh instance, never started: the restore creates its store and starts it
        _crkg(target, "restore", str(dump), "--yes")
        assert LocalNeo4j(target).running_pid() is not None
        assert await _fingerprint(target) == before
    finally:
        for settings in (source, target):
            LocalNeo4j(settings).stop()
            shutil.rmtree(LocalNeo4j(settings).home, ignore_errors=True)  # their data too


def test_restore_refuses_a_missing_file_clearly(tmp_path: Path) -> None:
    settings = _small_instance("backup-missing")
    completed = subprocess.run(
        [*CRKG, "restore", str(tmp_path / "nope.dump"), "--yes"],
        capture_output=True,
        text=True,
        env=cli_env(settings),
        check=False,
        timeout=120,
    )
    assert completed.returncode == 5
    assert "no dump file at" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_backup_refuses_an_external_server() -> None:
    settings = make_test_settings()
    completed = subprocess.run(
        [*CRKG, "backup"],
        capture_output=True,
        text=True,
        env=cli_env(
            settings, CRKG_NEO4J_URI="bolt://db.bank.internal:7687", CRKG_NEO4J_PASSWORD="x" * 20
        ),
        check=False,
        timeout=120,
    )
    assert completed.returncode == 1
    assert "crkg backs up only its managed server" in " ".join(completed.stderr.split())
    assert "neo4j-admin database dump" in " ".join(completed.stderr.split())
