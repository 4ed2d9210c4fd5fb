"""The explorer's repository and its Cypher without a database, on the recording runner: each
statement gets every parameter it names and names only the model's labels and types; the
answers come back as typed read models, cut and ordered as the methods promise."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from neo4j.time import Date

from graph.model import TieKind
from graph.queries import explorer as q
from graph.read_models import CustomerRecord, LinkageRecord, TieRecord
from graph.repositories.explorer import (
    ExplorerRepository,
    LinkageEdge,
    NeighbourPage,
    Reach,
    SharedIdentifierRecord,
)
from graph.results import ResultProperty
from tests.support.recording import Recorded, RecordingRunner


def _frontier(recorded: Recorded) -> list[dict[str, Any]]:
    # a star: C0 - C1..C5, and C1 - C6 (hop 2)
    tied = {"C0": ["C1", "C2", "C3", "C4", "C5"], "C1": ["C0", "C6"]}
    return [{"ids": sorted({n for i in recorded.params["ids"] for n in tied.get(i, [])})}]


async def test_reach_is_breadth_first_nearest_then_by_id_and_cut_at_the_limit() -> None:
    runner = RecordingRunner(answers={"explorer frontier": _frontier})
    repository = ExplorerRepository(runner)
    whole = await repository.reach(
        ["C0"], kinds=[TieKind.FRIEND], depth=2, min_strength=0.2, limit=10
    )
    assert whole == Reach(
        [("C0", 0), ("C1", 1), ("C2", 1), ("C3", 1), ("C4", 1), ("C5", 1), ("C6", 2)],
        truncated=False,
    )
    cut = await repository.reach(["C0"], kinds=[], depth=2, min_strength=0.0, limit=3)
    assert cut == Reach([("C0", 0), ("C1", 1), ("C2", 1), ("C3", 1)], truncated=True)
    recorded = runner.checked()
    assert recorded[0].params == {"ids": ["C0"], "min_strength": 0.2}
    assert ":FRIEND]" in recorded[0].query
    assert recorded[1].params["ids"] == ["C1", "C2", "C3", "C4", "C5"]


async def test_ties_come_back_as_tie_records_with_python_dates() -> None:
    # the bulk reads return lists with the date as ISO text (decoding maps and Dates for
    # 20,000 customers was most of a large view's request)
    tie = ["C1", "C2", "FRIEND", 0.5, "2024-03-01"]
    undated = ["C2", "C1", "FAMILY", None, None]
    runner = RecordingRunner(
        answers={
            "explorer ties": [{"rows": [tie, undated]}],
            "explorer ties touching": [{"rows": [tie]}],
            "explorer path ties": [{"rows": [tie]}],
        }
    )
    repository = ExplorerRepository(runner)
    expected = [TieRecord("C1", "C2", "FRIEND", 0.5, date(2024, 3, 1))]
    assert await repository.ties_among(["C1", "C2"], kinds=[], min_strength=0.0) == [
        *expected,
        TieRecord("C2", "C1", "FAMILY", None, None),
    ]
    assert (
        await repository.ties_touching(["C1"], ["C1", "C2"], kinds=[], min_strength=0.1) == expected
    )
    assert await repository.ties_touching([], ["C1"], kinds=[], min_strength=0.0) == []
    assert await repository.strongest_ties([("C1", "C2")], kinds=[TieKind.FAMILY]) == expected
    recorded = runner.checked()
    assert [r.operation for r in recorded] == [
        "explorer ties",
        "explorer ties touching",
        "explorer path ties",
    ]
    # both ends among the ids: the statement cuts, not the repository
    assert "b.customer_id IN $ids" in recorded[0].query
    assert recorded[2].params == {"pairs": [{"a": "C1", "b": "C2"}]}


async def test_drawn_customers_are_records_with_only_the_chosen_results() -> None:
    rows = [["C1", "PERSON", "Ann", "RM1", 3, 0.25], ["C2", "COMPANY", None, None, None, None]]
    runner = RecordingRunner(answers={"explorer customers": [{"rows": rows}]})
    records = await ExplorerRepository(runner).drawn_customers(
        ["C1", "C2"], community_property="community_louvain", score_property="score_pagerank"
    )
    assert records == [
        CustomerRecord(
            customer_id="C1",
            kind="PERSON",
            name="Ann",
            rm_id="RM1",
            results={
                ResultProperty.COMMUNITY_LOUVAIN: 3,
                ResultProperty.SCORE_PAGERANK: 0.25,
            },
        ),
        CustomerRecord(customer_id="C2", kind="COMPANY"),
    ]
    (recorded,) = runner.checked()
    assert recorded.params == {"ids": ["C1", "C2"]}
    assert "c.community_louvain" in recorded.query
    assert "c.score_pagerank" in recorded.query
    with pytest.raises(ValueError, match="not a result property"):
        q.drawn_customers("name", "score_pagerank")


async def test_strongest_neighbours_is_a_page_and_a_total() -> None:
    runner = RecordingRunner(
        answers={
            "explorer neighbours": [
                {"total": 7, "page": [{"id": "C3", "strength": 0.9}, {"id": "C1", "strength": 1}]}
            ]
        }
    )
    page = await ExplorerRepository(runner).strongest_neighbours(
        "C0", kinds=[], min_strength=0.0, offset=2, limit=2
    )
    assert page == NeighbourPage(7, [("C3", 0.9), ("C1", 1.0)])
    (recorded,) = runner.checked()
    assert recorded.params == {"customer_id": "C0", "min_strength": 0.0, "offset": 2, "limit": 2}
    empty = await ExplorerRepository(RecordingRunner()).strongest_neighbours(
        "C0", kinds=[], min_strength=0.0, offset=0, limit=2
    )
    assert empty == NeighbourPage(0, [])


def _linkage(kind: str) -> list[dict[str, Any]]:
    return [
        {
            "linkage": {
                "linkage_id": "L1",
                "kind": kind,
                "size": 2,
                "amount_minor": 12_345,
                "crkg_row_hash": "bookkeeping",
            },
            "members": [
                {"id": "C2", "position": 1, "role": None},
                {"id": "C1", "position": 0, "role": "CONTROLLER"},
            ],
        }
    ]


@pytest.mark.parametrize(
    ("kind", "relationship"),
    [("GUARANTEE_CIRCLE", "GUARANTEES"), ("FUND_CYCLE", "TRANSFERRED_TO")],
)
async def test_a_linkage_is_drawn_by_its_relationships(kind: str, relationship: str) -> None:
    edge = {"src": "C1", "dst": "C2", "amount_minor": 500, "pct": None, "at": Date(2024, 1, 2)}
    runner = RecordingRunner(
        answers={"explorer linkage": _linkage(kind), "explorer linkage edges": [{"rows": [edge]}]}
    )
    drawing = await ExplorerRepository(runner).linkage("L1", limit=10, identifiers=5)
    assert drawing is not None
    assert drawing.linkage == LinkageRecord.from_properties(
        {"linkage_id": "L1", "kind": kind, "size": 2, "amount_minor": 12_345},
        _linkage(kind)[0]["members"],
    )
    assert [m.customer_id for m in drawing.linkage.members] == ["C1", "C2"]  # position order
    assert drawing.edges == [LinkageEdge("C1", "C2", 500, None, date(2024, 1, 2))]
    assert drawing.identifiers == []
    recorded = runner.checked()
    assert f":{relationship}]" in recorded[1].query
    assert recorded[1].params == {"ids": ["C1", "C2"], "limit": 10}


async def test_a_ring_is_drawn_by_its_shared_identifiers() -> None:
    shared = {"key": "PHONE:ab12", "kind": "PHONE", "users": ["C1", "C2"]}
    runner = RecordingRunner(
        answers={
            "explorer linkage": _linkage("IDENTIFIER_RING"),
            "explorer shared identifiers": [{"rows": [shared]}],
        }
    )
    drawing = await ExplorerRepository(runner).linkage("L1", limit=10, identifiers=5)
    assert drawing is not None
    assert drawing.edges == []
    assert drawing.identifiers == [SharedIdentifierRecord("PHONE:ab12", "PHONE", ["C1", "C2"])]
    assert runner.checked()[1].params == {"ids": ["C1", "C2"], "limit": 5}


async def test_an_unknown_linkage_is_none_and_only_allow_listed_kinds_draw_edges() -> None:
    assert await ExplorerRepository(RecordingRunner()).linkage("L0", limit=1, identifiers=1) is None
    with pytest.raises(KeyError):
        q.linkage_edges("IDENTIFIER_RING")
