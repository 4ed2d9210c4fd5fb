"""Backups of the managed local Neo4j: ``neo4j-admin database dump`` and ``load``.

Neo4j Community dumps and loads a database only while the server is stopped, so both stop the
managed server, run the admin tool, and start it again if it was running (a restore always
starts it: the restored graph is what the next command expects). A dump holds the whole
database (nodes, relationships, constraints and indexes) but not the system database, so the
instance keeps its own generated password. For an external Neo4j the README gives the
commands to run on its host; crkg manages only its own server.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from graph.errors import LocalServerError
from graph.localserver.manager import LocalNeo4j, ProgressCallback
from graph.store import store_replaced


def _no_progress(_: str) -> None:
    pass


def backup(server: LocalNeo4j, to_dir: Path, progress: ProgressCallback = _no_progress) -> Path:
    """Dump the instance's database into ``to_dir``; the dump file's path.

    The file is ``<database>-<UTC time>.dump``, written under a temporary name and renamed
    when complete, so a dump cut short never looks like a backup.
    """
    database = server.settings.neo4j_database
    to_dir.mkdir(parents=True, exist_ok=True)
    was_running = server.running_pid() is not None
    if was_running:
        progress("stopping Neo4j for the dump")
        server.stop()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = to_dir / f"{database}-{stamp}.dump"
    try:
        with tempfile.TemporaryDirectory(dir=to_dir, prefix=".dump-") as scratch:
            progress(f"dumping database {database}")
            server.run_offline_admin(
                ["database", "dump", database, f"--to-path={scratch}"],
                log_file=server.home / "logs" / "backup.log",
                what="a dump",
            )
            dumped = Path(scratch) / f"{database}.dump"
            if not dumped.is_file():
                raise LocalServerError(f"neo4j-admin wrote no {dumped.name} into {scratch}")
            dumped.replace(target)
    finally:
        if was_running:
            progress("starting Neo4j again")
            server.start()
    target.chmod(0o600)  # a dump holds everything the graph holds
    return target


def restore(server: LocalNeo4j, dump_file: Path, progress: ProgressCallback = _no_progress) -> None:
    """Replace the instance's database with ``dump_file`` and start the server."""
    if not dump_file.is_file():
        raise LocalServerError(f"no dump file at {dump_file}")
    database = server.settings.neo4j_database
    if server.running_pid() is not None:
        progress("stopping Neo4j for the restore")
        server.stop()
    with tempfile.TemporaryDirectory(prefix="crkg-restore-") as scratch:
        # neo4j-admin reads <from-path>/<database>.dump
        shutil.copyfile(dump_file, Path(scratch) / f"{database}.dump")
        progress(f"loading {dump_file.name} into database {database}")
        try:
            server.run_offline_admin(
                ["database", "load", database, f"--from-path={scratch}", "--overwrite-destination"],
                log_file=server.home / "logs" / "restore.log",
                what="a restore",
            )
        finally:  # the store is another one now: this process's drivers forget the old one
            store_replaced(server.settings.local_uri)
    progress("starting Neo4j")
    server.start()
