"""What a validated chunk turns into (:class:`WriteOp`), and the online sink that writes it.

The plan of writes is the same for the online load and the bulk import; only the sink
differs: :class:`OnlineSink` runs one idempotent Cypher batch per operation, the bulk sink
(``loaders.bulk``) appends the rows to ``neo4j-admin database import`` files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, LiteralString, Protocol

from graph.queries import loads as q
from graph.repositories.loads import LoadRepository

WriteKind = Literal[
    "upsert_nodes", "delete_nodes", "link", "upsert_rels", "delete_rels", "upsert_uses",
    "delete_uses",
]  # fmt: skip


@dataclass(frozen=True)
class WriteOp:
    name: str
    kind: WriteKind
    rows: list[dict[str, Any]]
    node: q.NodeTarget | None = None
    rel: q.RelationshipTarget | None = None
    owner_is_source: bool = True
    counted: bool = True  # False for the side effects of a row (an RM link), not rows
    columns: tuple[str, ...] = ()  # every property the op's rows may carry (bulk headers)

    def statement(self) -> LiteralString:
        if self.kind == "upsert_nodes" and self.node is not None:
            return q.upsert_nodes(self.node)
        if self.kind == "delete_nodes" and self.node is not None:
            return q.delete_nodes(self.node)
        if self.kind == "link" and self.rel is not None:
            return q.replace_single_link(self.rel, owner_is_source=self.owner_is_source)
        if self.kind == "upsert_rels" and self.rel is not None:
            return q.upsert_relationships(self.rel)
        if self.kind == "delete_rels" and self.rel is not None:
            return q.delete_relationships(self.rel)
        if self.kind == "upsert_uses":
            return q.UPSERT_IDENTIFIER_USES
        if self.kind == "delete_uses":
            return q.DELETE_IDENTIFIER_USES
        raise ValueError(f"{self.name}: {self.kind} lacks its target")


class WriteSink(Protocol):
    async def write(self, op: WriteOp, load_id: str, loaded_at: datetime) -> tuple[int, int]:
        """Write the op's rows; return (rows written, rows that changed something)."""
        ...


class OnlineSink:
    """Writes each op as one transaction through the repository (retried if transient)."""

    def __init__(self, repository: LoadRepository) -> None:
        self.repository = repository

    async def write(self, op: WriteOp, load_id: str, loaded_at: datetime) -> tuple[int, int]:
        result = await self.repository.write_batch(
            op.name, op.statement(), op.rows, load_id=load_id, loaded_at=loaded_at
        )
        return result.written, result.changed
