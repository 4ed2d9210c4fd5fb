"""What a validated chunk turns into (:class:`~graph.repositories.loads.WriteOp`), and the
online sink that writes it.

The plan of writes is the same for the online load and the bulk import; only the sink
differs: :class:`OnlineSink` runs one idempotent Cypher batch per op (the statement is
``graph``'s choice), the bulk sink (``loaders.bulk``) appends the rows to
``neo4j-admin database import`` files. Where each file's rows go is the contract's
(:class:`~loaders.contract.FileSpec`: ``node``, ``links``, ``relationship``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Protocol

from graph.model import TieKind
from graph.repositories.loads import LoadRepository, WriteOp
from graph.targets import CUSTOMER, RelationshipTarget
from loaders.contract import FileSpec
from loaders.pii import IdentifierHasher
from loaders.validation import Op, ValidRow

# One relationship type per social tie kind (the kind column picks it, from the enum).
SOCIAL_TARGETS: dict[str, RelationshipTarget] = {
    kind.value: RelationshipTarget(kind.rel_type, CUSTOMER, CUSTOMER) for kind in TieKind
}
_ABSENT = "<column absent>"  # hashed in place of a link column the row does not carry


class WriteSink(Protocol):
    async def write(self, op: WriteOp, load_id: str, loaded_at: datetime) -> tuple[int, int]:
        """Write the op's rows; return (rows written, rows that changed something)."""
        ...

    async def write_chunk(
        self, ops: list[WriteOp], load_id: str, loaded_at: datetime
    ) -> list[tuple[int, int]]:
        """Write the ops of one chunk of rows; for each, what :meth:`write` returns."""
        ...


class OnlineSink:
    """Writes through the repository: a chunk's ops as one transaction (retried if
    transient, written again if its commit answer was lost)."""

    def __init__(self, repository: LoadRepository) -> None:
        self.repository = repository

    async def write(self, op: WriteOp, load_id: str, loaded_at: datetime) -> tuple[int, int]:
        result = await self.repository.write(op, load_id=load_id, loaded_at=loaded_at)
        return result.written, result.changed

    async def write_chunk(
        self, ops: list[WriteOp], load_id: str, loaded_at: datetime
    ) -> list[tuple[int, int]]:
        """One transaction for the chunk: its rows are in the graph whole or not at all."""
        results = await self.repository.write_chunk(ops, load_id=load_id, loaded_at=loaded_at)
        return [(result.written, result.changed) for result in results]


class CheckSink:
    """Writes nothing (``crkg load --check``): every row that would be written counts as
    written, none as changed."""

    async def write(self, op: WriteOp, load_id: str, loaded_at: datetime) -> tuple[int, int]:
        return len(op.rows), 0

    async def write_chunk(
        self, ops: list[WriteOp], load_id: str, loaded_at: datetime
    ) -> list[tuple[int, int]]:
        return [(len(op.rows), 0) for op in ops]


def row_hash(payload: Any) -> str:
    """A stable fingerprint of what a row writes (repr is stable for str, numbers, dates)."""
    return hashlib.blake2b(repr(payload).encode("utf-8"), digest_size=12).hexdigest()


def plan_writes(spec: FileSpec, rows: list[ValidRow], hasher: IdentifierHasher) -> list[WriteOp]:
    """What to write for one validated chunk, independent of how it is written."""
    upserts = [r for r in rows if r.op is Op.UPSERT]
    deletes = [r for r in rows if r.op is Op.DELETE]
    if spec.node is not None:
        ops = _node_ops(spec, upserts, deletes)
    elif spec.name == "identifiers":
        ops = _identifier_ops(upserts, deletes, hasher)
    else:
        ops = _relationship_ops(spec, upserts, deletes)
    return [op for op in ops if op.rows]


def _node_ops(spec: FileSpec, upserts: list[ValidRow], deletes: list[ValidRow]) -> list[WriteOp]:
    assert spec.node is not None
    name, target, link = spec.name, spec.node, spec.link
    key_column = spec.key[0]
    excluded = {key_column} | ({link.column} if link else set())
    columns = tuple(spec.property_of(c) for c in spec.columns if c not in excluded)
    node_rows = []
    for row in upserts:
        props = {spec.property_of(c): v for c, v in row.values.items() if c not in excluded}
        link_value = row.values.get(link.column, _ABSENT) if link else _ABSENT
        node_rows.append(
            {"key": row.values[key_column], "props": props, "hash": row_hash([props, link_value])}
        )
    ops = [WriteOp(f"upsert {name}", "upsert_nodes", node_rows, node=target, columns=columns)]
    if link is not None:
        # a row without the link column leaves the existing link alone
        links = [
            {"owner": r.values[key_column], "other": r.values[link.column]}
            for r in upserts
            if link.column in r.values
        ]
        ops.append(
            WriteOp(
                f"link {name}",
                "link",
                links,
                rel=link.target,
                owner_is_source=link.owner_is_source,
                counted=False,
            )
        )
    ops.append(
        WriteOp(
            f"delete {name}",
            "delete_nodes",
            [{"key": r.values[key_column]} for r in deletes],
            node=target,
        )
    )
    return ops


def _identifier_ops(
    upserts: list[ValidRow], deletes: list[ValidRow], hasher: IdentifierHasher
) -> list[WriteOp]:
    def uses(row: ValidRow) -> dict[str, Any]:
        key = hasher.key_for(row.values["kind"], str(row.values["value"]))
        return {
            "src": row.values["customer_id"],
            "dst": key,
            "kind": row.values["kind"],
            "props": {},
            "hash": row_hash(key),
        }

    return [
        WriteOp("upsert identifiers", "upsert_uses", [uses(r) for r in upserts]),
        WriteOp("delete identifiers", "delete_uses", [uses(r) for r in deletes]),
    ]


def _relationship_ops(
    spec: FileSpec, upserts: list[ValidRow], deletes: list[ValidRow]
) -> list[WriteOp]:
    assert spec.relationship is not None
    name, plan = spec.name, spec.relationship
    src, dst = plan.source_column, plan.target_column
    if plan.target is not None:
        targets = {"": (plan.target, upserts, deletes)}
        skip: tuple[str, ...] = ()
    else:  # the row's kind picks the relationship type (social ties)
        targets = {
            f" {kind}": (
                target,
                [r for r in upserts if r.values["kind"] == kind],
                [r for r in deletes if r.values["kind"] == kind],
            )
            for kind, target in SOCIAL_TARGETS.items()
        }
        skip = ("kind",)
    columns = _rel_columns(spec, src, dst, *skip)

    def rows(chosen: list[ValidRow]) -> list[dict[str, Any]]:
        return [_rel_row(spec, r, src, dst, skip) for r in chosen]

    ops = []
    for suffix, (target, ups, gone) in targets.items():
        ops += [
            WriteOp(
                f"upsert {name}{suffix}", "upsert_rels", rows(ups), rel=target, columns=columns
            ),
            WriteOp(f"delete {name}{suffix}", "delete_rels", rows(gone), rel=target),
        ]
    return ops


def _rel_columns(spec: FileSpec, *skip: str) -> tuple[str, ...]:
    return tuple(spec.property_of(c) for c in spec.columns if c not in skip)


def _rel_row(
    spec: FileSpec, row: ValidRow, source_column: str, target_column: str, exclude: tuple[str, ...]
) -> dict[str, Any]:
    skip = {source_column, target_column, *exclude}
    # money columns are stored as <column>_minor (integer minor units)
    props = {spec.property_of(c): v for c, v in row.values.items() if c not in skip}
    return {
        "src": row.values[source_column],
        "dst": row.values[target_column],
        "props": props,
        "hash": row_hash(props),
    }
