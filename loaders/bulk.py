"""``crkg load --bulk DIR``: the initial load of millions of rows through ``neo4j-admin import``.

The rows go through exactly the validation of the online load (same rejects file, same
report); instead of Cypher batches, the accepted rows are appended to import files (one per
label and relationship type) which ``neo4j-admin database import full`` turns into a store
while the server is stopped. The imported graph is the one an online load would have written,
provenance properties included, so a later online load of the same export changes nothing.

Only for the managed local server and an empty database: the import replaces the database.
"""

from __future__ import annotations

import csv
import logging
import os
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from graph.errors import CrkgError
from graph.localserver.manager import LocalNeo4j
from graph.repositories.loads import LoadRepository, WriteOp
from graph.repositories.schema import SchemaRepository
from graph.settings import CrkgSettings
from graph.store import connected_store, store_replaced
from loaders.contract import LIST_SEPARATOR, SPECS
from loaders.pipeline import Loader
from loaders.report import LoadProgress, LoadReport

logger = logging.getLogger(__name__)

PROVENANCE_COLUMNS = ("crkg_row_hash", "crkg_load_id", "crkg_loaded_at:datetime")


def _column_types() -> dict[str, str]:
    """Neo4j import type of every stored property (one meaning per name across files)."""
    types: dict[str, str] = {}
    for spec in SPECS.values():
        for column in spec.columns:
            prop = spec.property_of(column)
            if column in spec.numbers and spec.numbers[column].money:
                kind = "long"  # minor units: beyond 32 bits for large balances
            elif column in spec.numbers:
                kind = "int" if spec.numbers[column].integer else "float"
            elif column in spec.enum_lists:
                kind = "string[]"  # neo4j-admin's default array delimiter is ';' too
            elif column in spec.booleans:
                kind = "boolean"
            elif column in spec.dates:
                kind = "date"
            elif column in spec.datetimes:
                kind = "datetime"
            else:
                kind = "string"
            if types.setdefault(prop, kind) != kind:
                raise AssertionError(f"property {prop} has two types in the contract")
    return types


COLUMN_TYPES = _column_types()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, tuple | list):
        return LIST_SEPARATOR.join(str(item) for item in value)
    return str(value)


class _ImportFile:
    def __init__(self, path: Path, header: list[str]) -> None:
        self.path = path
        self.header = header
        # the files hold raw profile fields (phones, id numbers): owner-only, like rejects
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self.handle: IO[str] = os.fdopen(descriptor, "w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.handle)
        self.writer.writerow(header)
        self.rows = 0

    def write(self, cells: list[str]) -> None:
        self.writer.writerow(cells)
        self.rows += 1


class BulkSink:
    """Appends planned writes to import files instead of running them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(directory, 0o700)
        self.node_files: dict[str, _ImportFile] = {}
        self.rel_files: dict[str, _ImportFile] = {}
        self.identifiers: set[str] = set()

    async def write_chunk(
        self, ops: list[WriteOp], load_id: str, loaded_at: datetime
    ) -> list[tuple[int, int]]:
        return [await self.write(op, load_id, loaded_at) for op in ops]

    async def write(self, op: WriteOp, load_id: str, loaded_at: datetime) -> tuple[int, int]:
        stamp = [load_id, loaded_at.isoformat()]
        if op.kind in ("delete_nodes", "delete_rels", "delete_uses"):
            return len(op.rows), 0  # the database is empty: there is nothing to delete
        if op.kind == "upsert_nodes" and op.node is not None:
            label = op.node.label.value
            ids = {"key": f"{op.node.key_property}:ID({label})"}
            self._upsert(self.node_files, label, ids, op, stamp)
        elif op.kind == "link" and op.rel is not None:
            source, target = op.rel.source.label.value, op.rel.target.label.value
            out = self._file(
                self.rel_files,
                op.rel.rel_type.value,
                [f":START_ID({source})", f":END_ID({target})"],
            )
            for row in op.rows:
                if row["other"] is not None:
                    ends = [row["owner"], row["other"]]
                    out.write(ends if op.owner_is_source else ends[::-1])
        elif op.kind == "upsert_rels" and op.rel is not None:
            ids = {
                "src": f":START_ID({op.rel.source.label.value})",
                "dst": f":END_ID({op.rel.target.label.value})",
            }
            self._upsert(self.rel_files, op.rel.rel_type.value, ids, op, stamp)
        elif op.kind == "upsert_uses":
            nodes = self._file(
                self.node_files,
                "Identifier",
                ["key:ID(Identifier)", "kind", "crkg_load_id", "crkg_loaded_at:datetime"],
            )
            uses = self._file(
                self.rel_files,
                "USES",
                [":START_ID(Customer)", ":END_ID(Identifier)", *PROVENANCE_COLUMNS],
            )
            for row in op.rows:
                if row["dst"] not in self.identifiers:
                    self.identifiers.add(row["dst"])
                    nodes.write([row["dst"], row["kind"], *stamp])
                uses.write([row["src"], row["dst"], row["hash"], *stamp])
        else:
            raise ValueError(f"bulk import cannot {op.kind} ({op.name})")
        return len(op.rows), len(op.rows)

    def _upsert(
        self,
        files: dict[str, _ImportFile],
        name: str,
        ids: dict[str, str],
        op: WriteOp,
        stamp: list[str],
    ) -> None:
        """``op``'s rows into ``name``'s file: the row's ids (row key: header), its properties,
        its hash and the load's provenance stamp."""
        props = list(op.columns)
        header = [*ids.values(), *(f"{p}:{COLUMN_TYPES[p]}" for p in props), *PROVENANCE_COLUMNS]
        out = self._file(files, name, header)
        for row in op.rows:
            out.write(
                [
                    *(row[k] for k in ids),
                    *(_cell(row["props"].get(p)) for p in props),
                    row["hash"],
                    *stamp,
                ]
            )

    def _file(self, files: dict[str, _ImportFile], name: str, header: list[str]) -> _ImportFile:
        existing = files.get(name)
        if existing is None:
            prefix = "nodes" if files is self.node_files else "relationships"
            existing = files[name] = _ImportFile(self.directory / f"{prefix}-{name}.csv", header)
        elif existing.header != header:
            raise AssertionError(f"{name}: import header changed within one load")
        return existing

    def close(self) -> None:
        for out in (*self.node_files.values(), *self.rel_files.values()):
            out.handle.close()

    def import_arguments(self, database: str) -> list[str]:
        # the import (re)creates the store: the schema is applied afterwards by `init`
        arguments = [f"--nodes={label}={f.path}" for label, f in self.node_files.items()]
        arguments += [f"--relationships={t}={f.path}" for t, f in self.rel_files.items()]
        return [
            *arguments,
            "--id-type=string",
            "--ignore-empty-strings=true",
            "--multiline-fields=true",
            f"--array-delimiter={LIST_SEPARATOR}",
            "--bad-tolerance=0",
            "--skip-bad-relationships=false",
            "--overwrite-destination=true",
            database,
        ]


async def bulk_load(
    settings: CrkgSettings,
    directory: Path,
    *,
    progress: LoadProgress | None = None,
    max_reject_ratio: float | None = None,
    announce: Any = None,
) -> LoadReport:
    """Validate ``directory`` like an online load, then import it into the empty database."""
    say = announce or (lambda message: logger.info("%s", message))
    if not settings.uses_local_server:
        raise CrkgError(
            "--bulk imports only into the managed local Neo4j",
            hint="for an external Neo4j use the online `crkg load`",
        )
    server = LocalNeo4j(settings)
    server.start()
    import_dir = server.home / "import" / "bulk"
    sink = BulkSink(import_dir)
    try:
        async with connected_store(settings) as store:
            existing = await LoadRepository(store).domain_node_count()
            if existing:
                raise CrkgError(
                    f"--bulk needs an empty database; {settings.neo4j_database!r} holds "
                    f"{existing:,} nodes",
                    hint="use the online `crkg load` (idempotent, incremental) instead",
                )
            loader = Loader(
                store,
                settings,
                progress=progress,
                max_reject_ratio=max_reject_ratio,
                sink=sink,
                record_runs=False,
            )
            report = await loader.load(directory)
    finally:
        sink.close()
    say("stopping Neo4j for the import")
    server.stop()
    say("running neo4j-admin database import")
    try:
        server.import_database(
            sink.import_arguments(settings.neo4j_database),
            log_file=server.logs_dir / f"{report.run_id}-import.log",
        )
    finally:  # even a failed import may have replaced the store (--overwrite-destination)
        store_replaced(settings.local_uri)
    shutil.rmtree(import_dir, ignore_errors=True)  # imported: the raw copies must not linger
    say("starting Neo4j and creating the schema")
    server.start()
    async with connected_store(settings) as store:
        await SchemaRepository(store).apply()
        await Loader.record_report(LoadRepository(store), report)
    return report
