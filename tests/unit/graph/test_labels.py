"""Every label and relationship type a query names is in the model's enums (the allow-lists):
a query naming one that is not there fails here, before it meets a database."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest

import graph.queries
from graph.model import NodeLabel, RelType, TieKind
from graph.queries import communities, customers, loads, projections, risk_linkages, ties
from graph.queries import referral_targets as targets
from graph.queries.screens import RiskFlagRule, may_contact, product_eligible, risk_flagged
from graph.targets import CUSTOMER, PRODUCT, SCENARIO, RelationshipTarget
from tests.support.cypher import labels_and_types

RULE = RiskFlagRule(default_hops=2)
FRIEND = RelationshipTarget(TieKind.FRIEND.rel_type, CUSTOMER, CUSTOMER)
HOLDS = RelationshipTarget(RelType.HOLDS, CUSTOMER, PRODUCT, ("since",))


def _constants() -> Iterator[tuple[str, str]]:
    for module in pkgutil.iter_modules(graph.queries.__path__):
        loaded = importlib.import_module(f"graph.queries.{module.name}")
        for name, value in vars(loaded).items():
            if isinstance(value, str) and any(w in value for w in ("MATCH", "MERGE", "CALL")):
                yield f"{module.name}.{name}", value
            if isinstance(value, tuple) and value and isinstance(value[0], tuple):
                for entry in value:  # the schema's (name, statement) pairs
                    if len(entry) == 2 and isinstance(entry[1], str):
                        yield f"{module.name}.{name}.{entry[0]}", entry[1]


def _built() -> Iterator[tuple[str, str]]:
    kinds = tuple(TieKind)
    yield "ties.neighbourhood", ties.neighbourhood(kinds, 3)
    yield "ties.prospect", ties.prospect_two_ties_from_book()
    yield "ties.contributions", ties.pagerank_contributions(kinds)
    yield "ties.guarantees_around", ties.guarantees_around(4)
    scope = projections.customer_predicate(
        "a", scenario=True, branch=True, community_property_name="community_louvain"
    )
    window = projections.tie_window_predicate(since_from=True, since_to=True)
    yield "projections.read_ties", projections.read_ties(kinds, source=scope, window=window)
    yield "projections.read_customer_ids", projections.read_customer_ids(scope)
    yield "projections.ties_around", projections.read_ties_around(kinds)
    yield "projections.per_record", projections.read_ties_per_record(kinds)
    yield "projections.gds", projections.gds_cypher_projection(kinds, source=scope)
    for search in ("names", "book_names", "id", None):
        yield (
            f"customers.list.{search}",
            customers.list_customers(
                search=search, tier=True, scenario=True, community_property="community_wcc"
            ),
        )
    for label in customers.KEY_PROPERTIES:
        yield f"customers.existing.{label}", customers.existing_keys(label)
    yield (
        "customers.influencers",
        customers.influencers(
            "score_pagerank",
            scenario=True,
            community_property="community_leiden",
            branch=True,
            rule=RULE,
            contactable_only=True,
        ),
    )
    yield "customers.read_result", customers.read_result("tier")
    yield "customers.stage_result", customers.stage_result("score_degree_scoped")
    yield "customers.publish_result", customers.publish_result("score_degree_scoped")
    for part in ("tiers", "products", "scenarios"):
        builder = getattr(communities, f"read_community_{part}")
        yield f"communities.{part}", builder("community_louvain")
    yield "communities.members", communities.community_members("community_louvain")
    for order in risk_linkages.LINKAGE_ORDERS:
        yield f"risk_linkages.{order}", risk_linkages.linkages(order)
    yield "targets.screened", targets.referral_targets(RULE)
    yield "targets.contactable", targets.read_contactable(RULE)
    yield "targets.eligible", targets.read_eligible_targets(RULE)
    yield "targets.flags", targets.read_risk_flags(RULE)
    yield "screens", f"{risk_flagged('c', RULE)} {may_contact('x', RULE)} {product_eligible()}"
    for kind in ("upsert_nodes", "delete_nodes"):
        yield f"loads.{kind}", loads.write_statement(kind, node=SCENARIO)
    for kind in ("upsert_rels", "delete_rels", "link"):
        yield f"loads.{kind}", loads.write_statement(kind, rel=HOLDS)
    yield "loads.link_to_owner", loads.write_statement("link", rel=FRIEND, owner_is_source=False)
    yield "loads.existing", loads.existing_keys(PRODUCT)


QUERIES = dict([*_constants(), *_built()])


def test_the_query_catalogue_is_not_empty() -> None:
    assert len(QUERIES) > 60


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_a_query_names_only_labels_and_types_of_the_model(name: str) -> None:
    labels, types = labels_and_types(QUERIES[name])
    assert labels <= {label.value for label in NodeLabel}, (name, labels)
    assert types <= {rel.value for rel in RelType}, (name, types)


def test_the_check_sees_an_unknown_label_and_type() -> None:
    labels, types = labels_and_types(
        "MATCH (c:Customer)-[:FRIEND|ENEMY]->(x:Villain) WHERE NOT c:Ghost "
        "AND c.name = '(:NotALabel)' RETURN x"
    )
    assert labels == {"Customer", "Villain", "Ghost"}
    assert types == {"FRIEND", "ENEMY"}
