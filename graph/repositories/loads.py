"""Writes of the loader: batches of validated rows, key look-ups, the LoadRun record."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graph.errors import QueryFailedError
from graph.lost_commits import retry_lost_commits
from graph.queries import loads as q
from graph.queries.loads import WriteKind
from graph.repositories.customers import collected
from graph.store import Executed, QueryRunner, Statement
from graph.targets import NodeTarget, RelationshipTarget


@dataclass(frozen=True)
class WriteOp:
    """One planned write of a validated chunk: its rows and where they go.

    The same plan feeds the online load (:meth:`LoadRepository.write`, one transaction per
    op) and the bulk import (rows appended to ``neo4j-admin import`` files).
    """

    name: str
    kind: WriteKind
    rows: list[dict[str, Any]]
    node: NodeTarget | None = None
    rel: RelationshipTarget | None = None
    owner_is_source: bool = True
    counted: bool = True  # False for the side effects of a row (an RM link), not rows
    columns: tuple[str, ...] = ()  # every property the op's rows may carry (bulk headers)


@dataclass(frozen=True)
class BatchResult:
    written: int  # rows that reached their node or relationship
    changed: int  # rows that created, updated or deleted something


class LoadRepository:
    def __init__(self, runner: QueryRunner) -> None:
        self.runner = runner

    async def write(self, op: WriteOp, *, load_id: str, loaded_at: datetime) -> BatchResult:
        """Write one op in one transaction (see :meth:`write_chunk`)."""
        (result,) = await self.write_chunk([op], load_id=load_id, loaded_at=loaded_at)
        return result

    async def write_chunk(
        self, ops: Sequence[WriteOp], *, load_id: str, loaded_at: datetime
    ) -> list[BatchResult]:
        """Write the ops of one chunk of rows (its nodes, their links and identifiers) in one
        transaction: a chunk is in the graph whole or not at all. Every row must reach its
        target, or the transaction rolls back.

        Every op is an idempotent ``MERGE``: a chunk whose commit answer was lost is written
        again, and then all its rows count as changed (the lost commit may have changed
        them; counting too many only marks community profiles stale when they may not be).
        """
        if not ops:
            return []
        statements: list[Statement] = [
            (
                q.write_statement(
                    op.kind, node=op.node, rel=op.rel, owner_is_source=op.owner_is_source
                ),
                {"rows": op.rows, "load_id": load_id, "loaded_at": loaded_at},
            )
            for op in ops
        ]

        def every_row_written(done: Sequence[Executed]) -> None:  # inside the transaction
            for op, executed in zip(ops, done, strict=True):
                if (written := executed.count("written")) != len(op.rows):
                    raise QueryFailedError(
                        op.name,
                        None,
                        f"{len(op.rows) - written} of {len(op.rows)} rows found no endpoint; "
                        "they were checked before writing, so something deleted nodes during "
                        "the load",
                    )

        operation = " + ".join(dict.fromkeys(op.name for op in ops))
        done, repeated = await retry_lost_commits(
            operation,
            lambda: self.runner.execute_all(operation, statements, check=every_row_written),
        )
        results = []
        for executed in done:
            written = executed.count("written")
            results.append(BatchResult(written, written if repeated else executed.count("changed")))
        return results

    async def existing_keys(
        self, target: NodeTarget, keys: Iterable[str], *, batch_size: int = 10_000
    ) -> set[str]:
        """The subset of ``keys`` that exist in the database as ``target`` nodes."""
        pending = list(dict.fromkeys(keys))
        found: set[str] = set()
        statement = q.existing_keys(target)
        for start in range(0, len(pending), batch_size):
            chunk = pending[start : start + batch_size]
            rows = await self.runner.fetch(
                f"look up {target.label.value} keys", statement, keys=chunk
            )
            found.update(str(r["key"]) for r in rows)
        return found

    async def list_rows(
        self, pairs: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[bool, str | None]]:
        """Per (list version, customer): whether the version exists, and the treatment code
        of the customer's row on it (None when the customer is not on it)."""
        wanted = [{"version": v, "customer": c} for v, c in dict.fromkeys(pairs)]
        if not wanted:
            return {}
        rows = await self.runner.fetch("look up list rows", q.LIST_ROWS_OF, pairs=wanted)
        return {
            (str(r["version"]), str(r["customer"])): (
                bool(r["version_exists"]),
                None if r["treatment"] is None else str(r["treatment"]),
            )
            for r in rows
        }

    async def record_run(self, run_id: str, properties: dict[str, Any]) -> None:
        await self.runner.execute_idempotent(  # MERGE on the run id, SET of given values
            "record load run", q.RECORD_LOAD_RUN, run_id=run_id, properties=properties
        )

    async def domain_node_count(self) -> int:
        """Nodes other than the schema marker: zero means an empty database."""
        return int((await collected(self.runner, "count nodes", q.COUNT_DOMAIN_NODES))["count"])

    async def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """Nodes per label and relationships per type, as the database has them now."""
        labels = await self.runner.fetch("count labels", q.COUNT_BY_LABEL)
        types = await self.runner.fetch("count types", q.COUNT_BY_TYPE)
        return (
            {r["label"]: int(r["count"]) for r in labels},
            {r["type"]: int(r["count"]) for r in types},
        )
