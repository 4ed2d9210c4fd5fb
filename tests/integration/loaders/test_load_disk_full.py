"""Issue 16 item 7: a load into a nearly full data directory fails cleanly.

A small instance of its own (heap 512 MiB, its own port) keeps its ``data`` directory on a
64 MiB tmpfs, a real filesystem that fills up (``ENOSPC``), mounted for the test; the rest of
the instance (configuration, logs, pid file) stays on the ordinary disk. Its transaction log
files are 1 MiB (``db.tx_log.rotation.size``, added to the configuration the managed server
writes), so a load of a few MiB must start new log files, as a big load on a production server
does with the default 256 MiB: Neo4j preallocates each and, on a full disk, fails.

With all but 512 KiB of the tmpfs taken, the load fails with one clear error (the server's
failed commit as "outcome unknown": Neo4j may have logged it) and every transaction is whole
or absent (a batch of rows is one transaction: its nodes, their links and identifiers);
after the space is freed and the server restarted, the same load completes and
the graph holds exactly the export.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.errors import CommitFailedError, DatabaseError
from graph.localserver.manager import LocalNeo4j
from graph.localserver.processes import pid_alive
from graph.repositories.schema import SchemaRepository
from graph.settings import CrkgSettings
from graph.store import GraphStore, open_driver
from loaders.pipeline import Loader
from tests.conftest import TEST_INSTANCE, make_test_settings
from tests.integration.exports import write_bank
from tests.support.banks import query

pytestmark = pytest.mark.db

TMPFS_MIB = 64
LEFT_KIB = 512  # free space left on the data directory's filesystem for the load
CUSTOMERS, TIES, BATCH = 5_000, 10_000, 1_000


class SmallLogNeo4j(LocalNeo4j):
    """The managed server with 1 MiB transaction log files."""

    def write_config(self) -> Path:
        conf = super().write_config()
        with conf.open("a", encoding="utf-8") as handle:
            handle.write("db.tx_log.rotation.size=1M\n")
        return conf


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _kill(server: LocalNeo4j) -> None:
    """SIGKILL the server, once it is gone tidy up after it (a server that failed a commit
    on a full disk may hang in its shutdown)."""
    pid = server.running_pid()
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while pid_alive(pid):
            assert time.monotonic() < deadline, f"Neo4j (pid {pid}) survived SIGKILL"
            time.sleep(0.1)
    server.stop()  # reaps it and removes its pid file


def _free_kib(path: Path) -> int:
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize // 1024


@pytest.fixture
def small_disk() -> Iterator[tuple[SmallLogNeo4j, CrkgSettings, Path]]:
    """The instance (not started) and its data directory, on a tmpfs of TMPFS_MIB."""
    settings = make_test_settings(
        local_instance=f"{TEST_INSTANCE}-diskfull",
        local_bolt_port=_free_port(),
        local_heap_mib=512,
        local_pagecache_mib=128,
    )
    server = SmallLogNeo4j(settings)
    data = server.home / "data"
    if os.path.ismount(data):  # left by a run that was killed
        _kill(server)
        subprocess.run(["umount", str(data)], check=True)
    shutil.rmtree(server.home, ignore_errors=True)
    data.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MIB}m,mode=0700", "tmpfs", str(data)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.fail(
            "the disk-full test mounts a small tmpfs for the data directory, which needs root "
            f"(or CAP_SYS_ADMIN): {mounted.stderr.strip()}"
        )
    try:
        yield server, settings, data
    finally:
        _kill(server)
        deadline = time.monotonic() + 30  # the killed JVM's last threads may hold it a while
        while (umount := subprocess.run(["umount", str(data)], capture_output=True)).returncode:
            assert time.monotonic() < deadline, umount.stderr
            time.sleep(0.2)
        shutil.rmtree(server.home, ignore_errors=True)


async def _counts(store: GraphStore) -> dict[str, int]:
    rows = await query(
        store,
        "CALL () { MATCH (c:Customer) RETURN count(c) AS customers } "
        "CALL () { MATCH (r:RelationshipManager) RETURN count(r) AS managers } "
        "CALL () { MATCH ()-[m:MANAGED_BY]->() RETURN count(m) AS managed } "
        "CALL () { MATCH ()-[t:FRIEND|FAMILY|COLLEAGUE]->() RETURN count(t) AS ties } "
        "RETURN customers, managers, managed, ties",
    )
    return {k: int(v) for k, v in rows[0].items()}


async def test_a_load_into_a_nearly_full_data_directory_fails_cleanly_then_completes(
    small_disk: tuple[SmallLogNeo4j, CrkgSettings, Path], tmp_path: Path
) -> None:
    server, settings, data = small_disk
    rows = write_bank(tmp_path / "bank", customers=CUSTOMERS, ties=TIES, seed=7)
    server.start()
    driver = await open_driver(settings)
    try:
        store = GraphStore.from_settings(driver, settings)
        await SchemaRepository(store).apply()
        filler = data / "filler"
        with filler.open("wb") as handle:  # the disk, nearly full
            handle.write(b"\0" * ((_free_kib(data) - LEFT_KIB) * 1024))
        assert _free_kib(data) <= LEFT_KIB

        loader = Loader(store, settings, batch_size=BATCH, rejects_dir=tmp_path / "reports")
        with pytest.raises(DatabaseError) as failed:
            await loader.load(tmp_path / "bank")
    finally:
        await driver.close()
    error = failed.value
    assert isinstance(error, CommitFailedError), error  # not "failed": Neo4j may have logged it
    assert "failed while committing a write" in error.message
    assert error.hint is not None
    assert "debug.log" in error.hint
    assert "disk" in error.hint
    assert "Traceback" not in str(error)

    # the operator frees space and restarts the server (a failed commit leaves Neo4j unable
    # to write until then); recovery applies what it had logged: whole transactions only
    filler.unlink()
    assert server.running_pid() is not None
    _kill(server)  # a server that failed a commit may not shut down cleanly
    server.start()
    driver = await open_driver(settings)
    try:
        store = GraphStore.from_settings(driver, settings)
        partial = await _counts(store)
        assert partial["managers"] in (0, 10)
        # a batch of rows (the customers, their RM links) is one transaction: all or none
        assert partial["customers"] % BATCH == 0
        assert partial["managed"] == partial["customers"]
        assert partial["ties"] % BATCH == 0
        assert partial["customers"] + partial["ties"] < CUSTOMERS + TIES  # stopped part-way

        report = await Loader(
            store, settings, batch_size=BATCH, rejects_dir=tmp_path / "again"
        ).load(tmp_path / "bank")
        assert report.status == "SUCCEEDED"
        assert {f.file: f.rows_loaded for f in report.files} == rows
        assert await _counts(store) == {
            "customers": CUSTOMERS,
            "managers": 10,
            "managed": CUSTOMERS,
            "ties": TIES,
        }
    finally:
        await driver.close()
