"""The explorer's node and linkage columns from read models, no database: names masked (and
an unmasked one audited) as Customer.name, a network value withheld where AUM is banded,
exposure and linkage amounts in currency units, a fund cycle's steps in time order."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from api.graphql.common.enums import CommunityAlgorithm
from api.graphql.context import RequestContext
from api.graphql.explorer.types import ExplorerLinkage, edge_columns, node_columns
from api.graphql.jobs import JobRegistry
from api.graphql.network.types import InfluenceMetric
from api.security.auth import Principal, Role
from graph.read_models import CustomerRecord, LinkageRecord, TieRecord
from graph.repositories.explorer import LinkageDrawing, LinkageEdge
from graph.results import ResultProperty
from graph.settings import CrkgSettings, Environment
from graph.store import GraphStore

OWN = CustomerRecord(
    "C1",
    kind="person",
    name="王小明",
    rm_id="RM1",
    results={
        ResultProperty.COMMUNITY_LOUVAIN: "7",
        ResultProperty.SCORE_NETWORK_VALUE: 0.8,
        ResultProperty.SCORE_EXPOSURE: 123_456,
    },
)
OTHER = CustomerRecord(
    "C2",
    kind="person",
    name="李大海",
    rm_id="RM2",
    results={ResultProperty.SCORE_NETWORK_VALUE: 0.3},
)


def _info(principal: Principal, tmp_path: Path) -> Any:
    settings = CrkgSettings(_env_file=None, environment=Environment.TEST, data_dir=tmp_path)
    store = GraphStore(None, "neo4j")  # type: ignore[arg-type]  # never queried here
    context = RequestContext(
        principal=principal, settings=settings, store=store, jobs=JobRegistry(store, settings)
    )
    return SimpleNamespace(context=context)


def test_an_rm_sees_their_own_customers_name_and_network_value_only(tmp_path: Path) -> None:
    info = _info(Principal(subject="RM1", role=Role.RM, rm_id="RM1"), tmp_path)
    columns = node_columns(
        info,
        [OWN, OTHER],
        hops={"C1": 0, "C2": 1},
        color_by=CommunityAlgorithm.LOUVAIN,
        size_by=InfluenceMetric.NETWORK_VALUE,
    )
    assert columns["label"][0] == "王小明"
    assert columns["labelMasked"] == [False, True]
    assert columns["label"][1] != "李大海"
    assert columns["score"] == [0.8, None]  # withheld outside the book, as scores.networkValue
    assert columns["community"] == ["louvain:7", None]
    assert columns["hop"] == [0, 1]
    assert info.context.audit.fields_by_customer == {"C1": {"name", "network_value"}}


def test_exposure_is_in_currency_units_for_risk(tmp_path: Path) -> None:
    info = _info(Principal(subject="risk", role=Role.RISK), tmp_path)
    columns = node_columns(
        info,
        [OWN, OTHER],
        hops=None,
        color_by=CommunityAlgorithm.LOUVAIN,
        size_by=InfluenceMetric.EXPOSURE,
    )
    assert columns["score"] == [1234.56, None]
    ties = [TieRecord("C1", "C2", "FRIEND", 0.5, date(2024, 3, 1))]
    assert edge_columns(ties) == {
        "source": ["C1"],
        "target": ["C2"],
        "kind": ["FRIEND"],
        "strength": [0.5],
        "since": ["2024-03-01"],
    }


def test_a_fund_cycle_is_numbered_in_time_order_with_amounts_in_units() -> None:
    members = [{"id": c, "position": n, "role": None} for n, c in enumerate(["A", "B", "C"])]
    linkage = LinkageRecord.from_properties(
        {"linkage_id": "L1", "kind": "FUND_CYCLE", "size": 3, "amount_minor": 30_000}, members
    )
    edges = [
        LinkageEdge("B", "C", 10_000, None, date(2024, 1, 1)),  # before A→B: not a step
        LinkageEdge("A", "B", 10_000, None, date(2024, 1, 2)),
        LinkageEdge("B", "C", 10_000, None, date(2024, 1, 3)),
        LinkageEdge("C", "A", 10_000, None, date(2024, 1, 4)),
    ]
    drawn = ExplorerLinkage.from_drawing(LinkageDrawing(linkage, edges, []), max_edges=200)
    assert drawn.amount == 300.0
    assert [(e.from_id, e.to_id, e.order) for e in drawn.edges] == [
        ("B", "C", None),
        ("A", "B", 1),
        ("B", "C", 2),
        ("C", "A", 3),
    ]
    assert {e.kind for e in drawn.edges} == {"TRANSFERRED_TO"}
    assert [e.amount for e in drawn.edges] == [100.0] * 4
