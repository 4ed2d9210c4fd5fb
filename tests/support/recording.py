"""A query runner that records what repositories would send, and answers from a script.

The idea of the GDS client's ``CollectingQueryRunner``: the repositories and the Cypher
builders run unchanged, with no database; a test reads back each statement and its
parameters, and checks that every ``$parameter`` a statement names was given and that it
names only labels and relationship types of the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, LiteralString

from neo4j import SummaryCounters

from graph.model import NodeLabel, RelType
from graph.store import Executed, ExecutedCheck, QueryRunner, Row, Statement
from tests.support.cypher import labels_and_types

PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Recorded:
    operation: str
    query: str
    params: dict[str, Any]
    writes: bool

    def missing_parameters(self) -> set[str]:
        """Parameters the statement names that were not given."""
        return set(PARAMETER.findall(self.query)) - set(self.params)


Answer = Callable[[Recorded], list[Row]]


def _default_answer(recorded: Recorded) -> list[Row]:
    """A collected statement returns one record of empty lists; others return nothing."""
    if "collect(" in recorded.query and "RETURN collect" in recorded.query.replace("\n", " "):
        return [{key: [] for key in _returned(recorded.query)}]
    return []


def _returned(query: str) -> list[str]:
    """The columns of the last RETURN: each item's alias, or the item itself."""
    tail = query.replace("\n", " ").rsplit("RETURN", 1)[-1].split(" ORDER BY ")[0]
    items, depth, current = [], 0, ""
    for ch in tail:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += ch
    items.append(current)
    columns = []
    for item in items:
        alias = re.search(r"\bAS\s+([A-Za-z_][A-Za-z0-9_]*)\s*$", item.strip())
        columns.append(alias.group(1) if alias else item.strip())
    return columns


@dataclass
class RecordingRunner(QueryRunner):
    """Records every statement; ``answers`` maps an operation to its records (or a function
    of the recorded statement), else a collected statement gets empty lists."""

    answers: dict[str, list[Row] | Answer] = field(default_factory=dict)
    recorded: list[Recorded] = field(default_factory=list)

    def checked(self) -> list[Recorded]:
        """What was recorded, once every statement is found complete (each ``$parameter``
        given) and naming only labels and relationship types of the model."""
        for recorded in self.recorded:
            assert not recorded.missing_parameters(), (recorded.operation, recorded.query)
            labels, types = labels_and_types(recorded.query)
            assert labels <= {label.value for label in NodeLabel}, recorded.operation
            assert types <= {rel.value for rel in RelType}, recorded.operation
        return self.recorded

    def _answer(self, recorded: Recorded) -> list[Row]:
        self.recorded.append(recorded)
        answer = self.answers.get(recorded.operation)
        if answer is None:
            return _default_answer(recorded)
        return answer(recorded) if callable(answer) else list(answer)

    async def fetch(self, operation: str, query: LiteralString, /, **params: Any) -> list[Row]:
        return self._answer(Recorded(operation, query, params, writes=False))

    async def fetch_one(self, operation: str, query: LiteralString, /, **params: Any) -> Row | None:
        found = self._answer(Recorded(operation, query, params, writes=False))
        return found[0] if found else None

    async def execute(self, operation: str, query: LiteralString, /, **params: Any) -> Executed:
        records = self._answer(Recorded(operation, query, params, writes=True))
        return Executed(records, SummaryCounters({}))

    async def execute_all(
        self,
        operation: str,
        statements: Sequence[Statement],
        *,
        check: ExecutedCheck | None = None,
    ) -> list[Executed]:
        done = [
            Executed(
                self._answer(Recorded(operation, query, dict(params), writes=True)),
                SummaryCounters({}),
            )
            for query, params in statements
        ]
        if check is not None:
            check(done)
        return done
