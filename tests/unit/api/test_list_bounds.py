"""Every list field of the real schema has a length the cost estimate counts, and resolvers
keep to it.

Walks the schema the API serves: a list-returning field needs a page-size argument
(``first``, ``limit``, ``k``) or a declared bound in ``api.security.limits.LIST_BOUNDS``;
a new list field without either fails here, so the estimate cannot silently undercount.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    parse,
)

from algorithms.registry import REGISTRY
from api.graphql.admin.queries import MAX_UPSERT_ROWS
from api.graphql.common.enums import CommunityAlgorithm
from api.graphql.context import EXPLANATION_TOP
from api.graphql.schema import build_schema
from api.security.auth import Permission
from api.security.cost import QueryLimits, measure_operations
from api.security.limits import (
    LIST_BOUNDS,
    PAGE_SIZE_ARGUMENTS,
    ListBound,
    enforce_list_bounds,
    truncated_lists,
)
from graph.settings import CrkgSettings, Environment
from tests.support.graphql_types import is_list

PAGE_ARGUMENTS = (*PAGE_SIZE_ARGUMENTS, "k")


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> GraphQLSchema:
    settings = CrkgSettings(
        _env_file=None, environment=Environment.TEST, data_dir=tmp_path_factory.mktemp("d")
    )
    return build_schema(settings)._schema


def _object_types(schema: GraphQLSchema) -> Iterator[GraphQLObjectType]:
    for name, named in sorted(schema.type_map.items()):
        if not name.startswith("__") and isinstance(named, GraphQLObjectType):
            yield named


def _list_fields(schema: GraphQLSchema) -> Iterator[tuple[str, str, GraphQLField]]:
    for owner in _object_types(schema):
        for name, definition in owner.fields.items():
            if is_list(definition.type):
                yield owner.name, name, definition


def test_every_list_field_has_a_page_argument_or_a_declared_bound(schema: GraphQLSchema) -> None:
    unbounded = [
        f"{owner}.{name}"
        for owner, name, definition in _list_fields(schema)
        if not any(a in definition.args for a in PAGE_ARGUMENTS)
        and (owner, name) not in LIST_BOUNDS
    ]
    checked = sum(1 for _ in _list_fields(schema))
    assert checked > 20  # the walk found the schema's lists
    assert not unbounded, (
        f"list fields without a page argument or a bound in LIST_BOUNDS: {unbounded}"
    )


def test_every_declared_bound_is_a_list_field_of_the_schema(schema: GraphQLSchema) -> None:
    lists = {(owner, name) for owner, name, _ in _list_fields(schema)}
    assert set(LIST_BOUNDS) <= lists, set(LIST_BOUNDS) - lists


def test_a_list_that_is_the_page_above_sits_under_a_paged_field(schema: GraphQLSchema) -> None:
    # `page_above` adds no factor because the field returning its parent multiplied by its
    # page size: true only if every field returning that parent type takes one.
    parents = {owner for (owner, _), bound in LIST_BOUNDS.items() if bound.page_above}
    for owner in _object_types(schema):
        for name, definition in owner.fields.items():
            if get_named_type(definition.type).name in parents:
                assert any(a in definition.args for a in PAGE_ARGUMENTS), (
                    f"{owner.name}.{name} returns a paged container without a page argument"
                )


def test_a_bound_per_item_refers_to_the_page_above(schema: GraphQLSchema) -> None:
    for (owner, _), bound in LIST_BOUNDS.items():
        if bound.per is not None:
            assert LIST_BOUNDS[(owner, bound.per)].page_above


def test_bounds_agree_with_the_code_that_fills_the_lists() -> None:
    assert LIST_BOUNDS[("Customer", "communities")].most == len(CommunityAlgorithm)
    assert LIST_BOUNDS[("Customer", "influenceExplanation")].most == EXPLANATION_TOP
    assert LIST_BOUNDS[("Principal", "permissions")].most >= len(Permission)
    assert LIST_BOUNDS[("UpsertResult", "rejected")].most >= MAX_UPSERT_ROWS
    top = REGISTRY["referral_targets"].params.model_fields["top_introducers"]
    most_introducers = max(m.le for m in top.metadata if hasattr(m, "le"))
    assert LIST_BOUNDS[("ReferralTarget", "introducers")].most >= most_introducers


LIMITS = QueryLimits(max_depth=10, max_aliases=15, max_cost=50_000, max_page_size=1_000)


def _cost(schema: GraphQLSchema, query: str, **variables: Any) -> int:
    [measure] = measure_operations(schema, parse(query), LIMITS, variables=variables)
    return measure.cost


def test_the_nested_lists_of_the_report_are_counted(schema: GraphQLSchema) -> None:
    query = """{ customers(first: 1000) { edges { node { id communities { community {
        centralMembers { communities { community { centralMembers { id } } } } } } } } } }"""
    [measure] = measure_operations(schema, parse(query), LIMITS)
    # up to 1000 customers × 4 memberships × 5 central members × 4 × 5 ids: 400,000 values
    assert measure.cost > 400_000
    assert [str(s) for s in measure.heaviest] == [
        "customers: first=1000",
        "communities: at most 4",
        "centralMembers: at most 5",
        "communities: at most 4",
        "centralMembers: at most 5",
    ]
    assert [v.code for v in measure.violations(LIMITS)] == ["QUERY_TOO_COSTLY"]


def test_a_list_of_declared_length_multiplies_what_is_under_it(schema: GraphQLSchema) -> None:
    one = _cost(schema, '{ customer(id: "C1") { id } }')
    products = _cost(schema, '{ customer(id: "C1") { products { productId name } } }')
    # customer 1 + products (1 + 30 × 2)
    assert (one, products) == (2, 62)


def test_ties_count_per_customer_of_the_page(schema: GraphQLSchema) -> None:
    cost = _cost(schema, '{ connections(customerId: "C1", first: 100) { ties { fromId toId } } }')
    assert cost == 1 + 100 * (1 + 10 * 2)


# --- resolvers keep to the bounds --------------------------------------------------------------
@strawberry.type
class Node:
    label: str
    items: list[int]

    @strawberry.field
    async def later(self) -> list[int]:
        return list(range(10))


@strawberry.type
class Query:
    @strawberry.field
    def nodes(self) -> list[Node]:
        return [Node(label="n", items=list(range(10)))]


TINY_BOUNDS = {
    ("Node", "items"): ListBound(3, why="test"),
    ("Node", "later"): ListBound(4, why="test"),
    ("Query", "nodes"): ListBound(5, why="test"),
}


class Context:
    """A request context (weakly referenced by the truncation record)."""


async def test_a_list_longer_than_its_bound_is_cut_and_reported() -> None:
    tiny = strawberry.Schema(query=Query)
    enforce_list_bounds(tiny._schema, TINY_BOUNDS)
    context = Context()
    result = await tiny.execute("{ nodes { label items later } }", context_value=context)
    assert result.errors is None
    assert result.data == {"nodes": [{"label": "n", "items": [0, 1, 2], "later": [0, 1, 2, 3]}]}
    assert truncated_lists(context) == [
        {"path": ["nodes", 0, "items"], "returned": 3, "available": 10},
        {"path": ["nodes", 0, "later"], "returned": 4, "available": 10},
    ]
    assert truncated_lists(Context()) == []


def test_bounds_of_fields_a_schema_lacks_are_ignored(tmp_path: Path) -> None:
    tiny = strawberry.Schema(query=Query)
    enforce_list_bounds(tiny._schema, {("Nope", "none"): ListBound(1)})
    assert tiny.execute_sync("{ nodes { items } }").data == {"nodes": [{"items": list(range(10))}]}
