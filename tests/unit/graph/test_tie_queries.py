"""The read-side Cypher builders, without a database: they must build, and name only what
the model declares."""

from __future__ import annotations

from graph.model import TieKind
from graph.queries import ties as q


def test_pagerank_contributions_builds_a_map_literal_per_row() -> None:
    statement = q.pagerank_contributions(list(TieKind))
    # the Cypher map literal survives the f-string (it was read as a format spec)
    assert "collect({neighbour: neighbour, contribution: contribution})" in statement
    assert "collect({id: id, neighbour: f.neighbour, contribution: f.contribution," in statement
    assert "$ids" in statement
