"""Abuse limits and error masking on a tiny schema whose resolvers count their calls.

An abusive document must be refused with its code before any resolver runs (the counter
stays 0); a legitimate one must pass.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
import strawberry
from graphql import parse
from strawberry.types import ExecutionResult

from api.security.auth import (
    AuthConfigurationError,
    AuthenticationError,
    ForbiddenError,
    Permission,
    Role,
)
from api.security.cost import QueryLimits, measure_operations
from api.security.extensions import schema_config, security_extensions
from graph.errors import NotFoundError, QueryFailedError
from graph.settings import CrkgSettings, Environment
from tests.support.settings import settings_in

MAX_PAGE = 100
MAX_COST = 1_000


class Calls:
    count = 0


def called() -> None:
    Calls.count += 1


@strawberry.type
class Customer:
    id: strawberry.ID
    name: str

    @strawberry.field
    def connections(self, first: int = 10) -> list[Customer]:
        called()
        return [Customer(id=strawberry.ID(f"{self.id}.{i}"), name="n") for i in range(first)]

    @strawberry.field
    def tags(self, limit: int | None = None) -> list[str]:
        called()
        return ["vip"]


@strawberry.input
class Place:
    branch_id: strawberry.ID
    note: str | None = None


@strawberry.type
class Query:
    @strawberry.field
    def customers(self, first: int | None = None) -> list[Customer]:
        called()
        return [Customer(id=strawberry.ID(str(i)), name="n") for i in range(first or 2)]

    @strawberry.field
    def customer(self, id: strawberry.ID) -> Customer | None:
        called()
        return Customer(id=id, name="n")

    @strawberry.field
    def opened_since(self, day: dt.date) -> str:
        called()
        return day.isoformat()

    @strawberry.field
    def find(self, text: str, tags: list[str] | None = None, where: Place | None = None) -> str:
        called()
        return text

    @strawberry.field
    def broken(self) -> str:
        raise RuntimeError("MATCH (c:Customer {secret: true}) RETURN c")

    @strawberry.field
    def database_down(self) -> str:
        raise QueryFailedError("read customer", "Neo.ClientError", "MATCH (c) WHERE c.x = 1")

    @strawberry.field
    def missing(self) -> str:
        raise NotFoundError("Customer", "C404")

    @strawberry.field
    def admin_only(self) -> str:
        raise ForbiddenError(Role.MARKETER, Permission.RUN_ALGORITHMS)

    @strawberry.field
    def me(self) -> str:
        raise AuthenticationError("missing bearer token", hint="send a bearer token")

    @strawberry.field
    def misconfigured(self) -> str:
        raise AuthConfigurationError("CRKG_AUTH_JWT_SECRET is 5 bytes")


def settings_for(tmp_path: Path, environment: Environment, **overrides: Any) -> CrkgSettings:
    limits = {
        "api_max_page_size": MAX_PAGE,
        "api_max_cost": MAX_COST,
        "api_max_depth": 5,
        "api_max_aliases": 3,
        "api_max_tokens": 200,
    }
    return settings_in(tmp_path, **({"environment": environment} | limits | overrides))


def build_schema(settings: CrkgSettings) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query, extensions=security_extensions(settings), config=schema_config(settings)
    )


@pytest.fixture(autouse=True)
def no_calls_yet() -> None:
    Calls.count = 0


@pytest.fixture
def schema(tmp_path: Path) -> strawberry.Schema:
    return build_schema(settings_for(tmp_path, Environment.PRODUCTION))


@pytest.fixture
def dev_schema(tmp_path: Path) -> strawberry.Schema:
    return build_schema(settings_for(tmp_path, Environment.DEVELOPMENT))


def codes(result: ExecutionResult) -> list[str]:
    return [(error.extensions or {}).get("code", "") for error in result.errors or []]


def refused(schema: strawberry.Schema, query: str, code: str, **variables: Any) -> ExecutionResult:
    result = schema.execute_sync(query, variable_values=variables or None)
    assert result.data is None
    assert code in codes(result), [e.message for e in result.errors or []]
    assert Calls.count == 0, "a resolver ran for a refused document"
    return result


def response(result: ExecutionResult) -> str:
    """What the client would receive."""
    return json.dumps([error.formatted for error in result.errors or []], ensure_ascii=False)


# --- legitimate documents pass ----------------------------------------------------------
def test_a_legitimate_query_runs(schema: strawberry.Schema) -> None:
    query = "{ customers(first: 10) { id name connections(first: 5) { id } tags(limit: 3) } }"
    result = schema.execute_sync(query)
    assert result.errors is None
    assert result.data is not None
    assert len(result.data["customers"]) == 10
    assert Calls.count > 0


async def test_a_legitimate_query_runs_async(schema: strawberry.Schema) -> None:
    result = await schema.execute("query($n: Int) { customers(first: $n) { id } }", {"n": 3})
    assert result.errors is None
    assert result.data == {"customers": [{"id": "0"}, {"id": "1"}, {"id": "2"}]}


def test_a_full_page_of_flat_rows_is_affordable(schema: strawberry.Schema) -> None:
    result = schema.execute_sync(f"{{ customers(first: {MAX_PAGE}) {{ id name }} }}")
    assert result.errors is None


# --- abusive documents are refused before execution -------------------------------------
def nested(levels: int) -> str:
    """``customers`` with ``levels`` nested ``connections`` below it: depth ``levels + 1``."""
    return (
        "{ customers(first: 1) "
        + "{ connections(first: 1) " * levels
        + "{ id }"
        + " }" * levels
        + " }"
    )


def test_too_deep(schema: strawberry.Schema) -> None:
    assert schema.execute_sync(nested(4)).errors is None  # depth 5: at the limit
    Calls.count = 0
    result = refused(schema, nested(5), "QUERY_TOO_DEEP")
    assert result.errors is not None
    assert result.errors[0].message == "the query has depth 6, above the limit 5"


def test_too_many_aliases(schema: strawberry.Schema) -> None:
    query = "{ a: customer(id: 1) { id } b: customer(id: 2) { id } c: customer(id: 3) { id } d: customer(id: 4) { id } }"
    refused(schema, query, "TOO_MANY_ALIASES")


def test_too_many_tokens(schema: strawberry.Schema) -> None:
    query = "{ customer(id: 1) { " + "id " * 300 + "} }"
    result = refused(schema, query, "TOO_MANY_TOKENS")
    assert "200 tokens" in result.errors[0].message  # type: ignore[index]


@pytest.mark.parametrize("argument", ["first: 100000", "first: $n"])
def test_a_page_above_the_maximum(schema: strawberry.Schema, argument: str) -> None:
    query = f"query($n: Int) {{ customers({argument}) {{ id }} }}"
    result = refused(schema, query, "PAGE_SIZE_TOO_LARGE", n=100_000)
    assert "customers: first=100000 exceeds the maximum page size 100" in response(result)


def test_a_page_above_the_maximum_deep_in_a_fragment(schema: strawberry.Schema) -> None:
    query = """
      { customer(id: 1) { ...Neighbours } }
      fragment Neighbours on Customer { connections(first: 5000) { id } }
    """
    refused(schema, query, "PAGE_SIZE_TOO_LARGE")


def test_a_negative_page(schema: strawberry.Schema) -> None:
    refused(schema, "{ customers(first: -1) { id } }", "INVALID_PAGE_SIZE")


def test_nested_pages_multiply(schema: strawberry.Schema) -> None:
    query = (
        "{ customers(first: 100) { connections(first: 100) { connections(first: 100) { id } } } }"
    )
    result = refused(schema, query, "QUERY_TOO_COSTLY")
    [error] = result.errors or []
    assert error.message == (
        "query cost 1010101 exceeds the limit 1000 "
        "(customers: first=100 × connections: first=100 × connections: first=100)"
    )
    assert error.extensions == {"code": "QUERY_TOO_COSTLY", "cost": 1010101, "limit": 1000}


def test_page_sizes_from_variables_count(schema: strawberry.Schema) -> None:
    query = "query($a: Int, $b: Int) { customers(first: $a) { connections(first: $b) { id } } }"
    refused(schema, query, "QUERY_TOO_COSTLY", a=100, b=50)
    assert schema.execute_sync(query, variable_values={"a": 10, "b": 5}).errors is None


def test_a_variable_default_counts(schema: strawberry.Schema) -> None:
    query = "query($a: Int = 100, $b: Int = 50) { customers(first: $a) { connections(first: $b) { id } } }"
    refused(schema, query, "QUERY_TOO_COSTLY")


def test_a_missing_page_size_counts_the_default_or_the_maximum(schema: strawberry.Schema) -> None:
    # customers has no default (counts 100), connections defaults to 10: 1 + 100 × (1 + 10 × 11)
    result = refused(
        schema, "{ customers { connections { connections { id } } } }", "QUERY_TOO_COSTLY"
    )
    assert result.errors is not None
    assert result.errors[0].extensions is not None
    assert result.errors[0].extensions["cost"] == 11101


def test_an_explicit_null_page_size_counts_the_maximum(schema: strawberry.Schema) -> None:
    query = "query($n: Int) { customers(first: $n) { connections(first: 20) { id } } }"
    refused(schema, query, "QUERY_TOO_COSTLY", n=None)


def test_aliases_and_fragments_do_not_hide_cost(schema: strawberry.Schema) -> None:
    query = """
      { a: customers(first: 50) { ...Wide } b: customers(first: 50) { ...Wide } }
      fragment Wide on Customer { id name ... on Customer { tags(limit: 3) } }
    """
    # per customer: id + name + tags(1 + 3) = 6, so each root field costs 1 + 50 × 6 = 301
    result = refused(schema, query.replace("tags(limit: 3)", "tags(limit: 90)"), "QUERY_TOO_COSTLY")
    assert "tags: limit=90" in result.errors[0].message  # type: ignore[index]
    assert schema.execute_sync(query).errors is None


def fragment_bomb(levels: int, leaf: str) -> str:
    """Each fragment spreads the next twice: 2**levels copies of ``leaf`` once expanded."""
    fragments = [f"fragment F{i} on Customer {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    fragments.append(f"fragment F{levels} on Customer {{ {leaf} }}")
    return "{ customer(id: 1) { ...F0 } } " + " ".join(fragments)


@pytest.mark.parametrize(
    ("leaf", "code"), [("id", "QUERY_TOO_COSTLY"), ("x: id", "TOO_MANY_ALIASES")]
)
def test_a_fragment_bomb_is_measured_quickly_and_refused(
    tmp_path: Path, leaf: str, code: str
) -> None:
    # strawberry's own depth and alias limiters expand every spread: 2**40 steps here.
    schema = build_schema(settings_for(tmp_path, Environment.PRODUCTION, api_max_tokens=5000))
    started = time.process_time()
    result = refused(schema, fragment_bomb(40, leaf), code)
    assert time.process_time() - started < 2
    if code == "TOO_MANY_ALIASES":
        assert f"uses {2**40} aliases" in response(result)


def test_a_document_too_deep_to_parse_is_too_deep(tmp_path: Path) -> None:
    schema = build_schema(settings_for(tmp_path, Environment.PRODUCTION, api_max_tokens=20_000))
    result = refused(schema, nested(300), "QUERY_TOO_DEEP")
    assert "nested too deeply" in response(result)


def test_a_long_chain_of_fragments_is_too_deep_not_an_internal_error(tmp_path: Path) -> None:
    schema = build_schema(
        settings_for(
            tmp_path,
            Environment.PRODUCTION,
            api_max_tokens=20_000,
            api_max_document_bytes=100_000,  # the walk, not the size limit, is tested here
        )
    )
    levels = 600  # past the interpreter's recursion limit if walked without a bound
    fragments = [f"fragment F{i} on Customer {{ ...F{i + 1} }}" for i in range(levels)]
    query = (
        "{ customer(id: 1) { ...F0 } } "
        + " ".join(fragments)
        + f" fragment F{levels} on Customer {{ id }}"
    )
    result = refused(schema, query, "QUERY_TOO_DEEP")
    assert "INTERNAL_ERROR" not in codes(result)


async def test_abuse_is_refused_async_too(schema: strawberry.Schema) -> None:
    query = "{ customers(first: 100) { connections(first: 100) { id } } }"
    result = await schema.execute(query)
    assert codes(result) == ["QUERY_TOO_COSTLY"]
    assert Calls.count == 0


def test_the_named_operation_is_the_one_costed(schema: strawberry.Schema) -> None:
    query = """
      query Cheap { customers(first: 2) { id } }
      query Costly { customers(first: 100) { connections(first: 100) { id } } }
    """
    assert schema.execute_sync(query, operation_name="Cheap").errors is None
    Calls.count = 0
    refused(schema, query.replace("Cheap", "Cheaper"), "QUERY_TOO_COSTLY")


def test_estimate_explains_the_heaviest_chain(schema: strawberry.Schema) -> None:
    document = parse(
        "{ customer(id: 1) { tags(limit: 7) connections(first: 3) { connections(first: 4) { id } } } }"
    )
    limits = QueryLimits(max_depth=5, max_aliases=3, max_cost=MAX_COST, max_page_size=MAX_PAGE)
    [estimate] = measure_operations(schema._schema, document, limits)
    # tags 1 + 7; connections 1 + 3 × (1 + 4 × 1); customer 1 + 8 + 16
    assert estimate.cost == 25
    assert [str(step) for step in estimate.heaviest] == [
        "connections: first=3",
        "connections: first=4",
    ]
    assert estimate.depth == 3
    assert estimate.violations(limits) == []


# --- introspection and suggestions ------------------------------------------------------
INTROSPECTION = "{ __schema { queryType { name } } }"


def test_introspection_is_refused_outside_development(schema: strawberry.Schema) -> None:
    refused(schema, INTROSPECTION, "INTROSPECTION_DISABLED")


def test_introspection_works_in_development(dev_schema: strawberry.Schema) -> None:
    result = dev_schema.execute_sync(INTROSPECTION)
    assert result.errors is None
    assert result.data == {"__schema": {"queryType": {"name": "Query"}}}


@pytest.mark.parametrize(
    "query",
    ["{ custmers { id } }", "{ customers(frist: 1) { id } }", "{ customer(id: 1) { nme } }"],
)
def test_suggestions_are_hidden_outside_development(
    schema: strawberry.Schema, dev_schema: strawberry.Schema, query: str
) -> None:
    assert "Did you mean" in response(dev_schema.execute_sync(query))
    hidden = schema.execute_sync(query)
    assert hidden.errors
    assert "Did you mean" not in response(hidden)
    assert Calls.count == 0


def test_schema_config_turns_field_suggestions_off_outside_development(tmp_path: Path) -> None:
    assert schema_config(settings_for(tmp_path, Environment.PRODUCTION)).disable_field_suggestions
    assert schema_config(settings_for(tmp_path, Environment.TEST)).disable_field_suggestions
    assert not schema_config(
        settings_for(tmp_path, Environment.DEVELOPMENT)
    ).disable_field_suggestions


# --- error masking ----------------------------------------------------------------------------
def test_an_unexpected_exception_is_an_internal_error_with_a_reference(
    schema: strawberry.Schema, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="crkg.api.errors"):
        result = schema.execute_sync("{ broken }")
    [error] = result.errors or []
    assert error.extensions is not None
    ref = error.extensions["ref"]
    assert error.message == f"internal error (ref {ref})"
    assert error.extensions["code"] == "INTERNAL_ERROR"
    assert "MATCH" not in response(result)
    assert "Traceback" not in response(result)
    [record] = [r for r in caplog.records if r.name == "crkg.api.errors"]
    assert ref in record.getMessage()
    assert record.exc_info is not None
    assert "MATCH (c:Customer" in str(record.exc_info[1])


async def test_internal_errors_are_masked_async_too(schema: strawberry.Schema) -> None:
    result = await schema.execute("{ broken }")
    assert codes(result) == ["INTERNAL_ERROR"]
    assert "MATCH" not in response(result)


@pytest.mark.parametrize("field", ["databaseDown", "misconfigured"])
def test_operator_errors_are_internal(schema: strawberry.Schema, field: str) -> None:
    result = schema.execute_sync(f"{{ {field} }}")
    assert codes(result) == ["INTERNAL_ERROR"]
    assert "CRKG_" not in response(result)
    assert "MATCH" not in response(result)
    assert "Neo." not in response(result)


@pytest.mark.parametrize(
    ("field", "code", "message"),
    [
        ("missing", "NOT_FOUND", "no Customer with key 'C404'"),
        ("adminOnly", "FORBIDDEN", "role 'marketer' lacks the permission 'run_algorithms'"),
        ("me", "UNAUTHENTICATED", "not authenticated: missing bearer token"),
    ],
)
def test_crkg_errors_keep_their_message(
    schema: strawberry.Schema, field: str, code: str, message: str
) -> None:
    [error] = schema.execute_sync(f"{{ {field} }}").errors or []
    assert error.message == message
    assert error.extensions is not None
    assert error.extensions["code"] == code
    assert error.path == [field]


def test_a_hint_travels_in_the_extensions(schema: strawberry.Schema) -> None:
    [error] = schema.execute_sync("{ me }").errors or []
    assert error.extensions == {"code": "UNAUTHENTICATED", "hint": "send a bearer token"}


def test_bad_variables_keep_graphqls_message(schema: strawberry.Schema) -> None:
    result = schema.execute_sync(
        "query($d: Date!) { openedSince(day: $d) }", variable_values={"d": "not a date"}
    )
    assert result.errors
    assert "internal error" not in response(result)
    assert "$d" in response(result)
    assert Calls.count == 0


# --- field selections, counted before validation -----------------------------------------------
def test_many_field_selections_are_refused_before_any_validation_rule(tmp_path: Path) -> None:
    schema = build_schema(settings_for(tmp_path, Environment.PRODUCTION, api_max_tokens=5000))
    # 2 × 200 fields, and an unknown field that validation would report
    query = "{ " + "customer(id: 1) { id } " * 200 + "nosuchfield }"
    result = refused(schema, query, "TOO_MANY_FIELDS")
    assert codes(result) == ["TOO_MANY_FIELDS"]  # no validation error: no rule ran
    assert "selects 401 fields" in response(result)
    assert "above the limit 300" in response(result)


def test_fields_spread_from_fragments_count_where_spread(tmp_path: Path) -> None:
    schema = build_schema(settings_for(tmp_path, Environment.PRODUCTION, api_max_fields=50))
    fragment = "fragment F on Customer { id name }"
    fits = "{ customer(id: 1) { " + "...F " * 24 + "} } " + fragment  # 1 + 24 × 2 = 49
    assert schema.execute_sync(fits).errors is None
    Calls.count = 0
    refused(schema, fits.replace("...F " * 24, "...F " * 25), "TOO_MANY_FIELDS")  # 51


def test_the_repeated_field_document_of_the_report_is_refused_quickly(tmp_path: Path) -> None:
    # ~495 repeats of one field (2 KB) used to spend seconds in the overlapping-fields rule.
    # CPU time of this process, not wall time: a loaded CI machine stretches the wall clock
    # (the test failed under load), but not the work the validator does.
    schema = build_schema(settings_for(tmp_path, Environment.PRODUCTION, api_max_tokens=5000))
    query = "{" + "customer(id:1){id}" * 495 + "}"
    started = time.process_time()
    refused(schema, query, "TOO_MANY_FIELDS")
    assert time.process_time() - started < 0.5


def test_introspection_of_the_ide_fits_the_default_field_limit(
    dev_schema: strawberry.Schema,
) -> None:
    from graphql import get_introspection_query

    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    assert dev_schema.execute_sync(query).errors is None


# --- document size, before parsing ------------------------------------------------------
def test_a_document_padded_with_comments_is_refused_before_parsing(tmp_path: Path) -> None:
    schema = build_schema(
        settings_for(tmp_path, Environment.PRODUCTION, api_max_document_bytes=20_000)
    )
    # comments are not tokens: the token limit alone let megabytes reach the parser
    padded = "# " + "x" * 40_000_000 + "\n{ customer(id: 1) { id } }"
    started = time.process_time()
    result = refused(schema, padded, "DOCUMENT_TOO_LARGE")
    assert time.process_time() - started < 1.0
    [error] = result.errors or []
    assert "at most 20000" in error.message
    assert len(response(result)) < 500  # the document is not echoed back
    Calls.count = 0
    assert schema.execute_sync("# short\n{ customer(id: 1) { id } }").errors is None


# --- argument lengths ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "variables", "where"),
    [
        ('{ customer(id: "' + "C" * 129 + '") { id } }', {}, "Query.customer(id:)"),
        (
            "query($id: ID!) { customer(id: $id) { id } }",
            {"id": "C" * 100_000},
            "Query.customer(id:)",
        ),
        ('{ find(text: "' + "t" * 513 + '") }', {}, "Query.find(text:)"),
        (
            'query($t: [String!]) { find(text: "a", tags: $t) }',
            {"t": ["ok", "t" * 600]},
            "Query.find(tags:)",
        ),
        (
            'query($w: Place) { find(text: "a", where: $w) }',
            {"w": {"branchId": "B" * 200}},
            "Query.find(where:).branchId",
        ),
        (
            '{ find(text: "a", where: {branchId: "' + "B" * 130 + '"}) }',
            {},
            "Query.find(where:).branchId",
        ),
    ],
)
def test_an_id_or_string_longer_than_the_model_holds_is_refused(
    schema: strawberry.Schema, query: str, variables: dict[str, Any], where: str
) -> None:
    result = refused(schema, query, "ARGUMENT_TOO_LONG", **variables)
    text = response(result)
    assert where in text
    assert len(text) < 600, "the long value must not be echoed back"


def test_ids_and_strings_up_to_the_model_lengths_pass(schema: strawberry.Schema) -> None:
    assert schema.execute_sync('{ customer(id: "' + "C" * 128 + '") { id } }').errors is None
    result = schema.execute_sync(
        "query($t: String!) { find(text: $t) }", variable_values={"t": "名" * 512}
    )
    assert result.errors is None


def test_the_limits_are_the_models_key_and_name_lengths() -> None:
    from typing import get_args

    from api.security.limits import MAX_ID_LENGTH, MAX_STRING_LENGTH
    from graph.model import Key, Name

    def longest(annotated: Any) -> int:
        return next(m.max_length for m in get_args(annotated)[1:] if hasattr(m, "max_length"))

    assert (longest(Key), longest(Name)) == (MAX_ID_LENGTH, MAX_STRING_LENGTH)


def test_an_int_literal_of_thousands_of_digits_is_a_page_size_error_not_internal(
    schema: strawberry.Schema,
) -> None:
    result = refused(
        schema, "{ customers(first: " + "9" * 5000 + ") { id } }", "PAGE_SIZE_TOO_LARGE"
    )
    assert "INTERNAL_ERROR" not in codes(result)
    assert len(response(result)) < 1000


# --- GraphQL's own errors carry a code ------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ me { role } ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ custome(id: 1) { id } }", None, "GRAPHQL_VALIDATION_FAILED"),
        ('{ customers(first: "x") { id } }', None, "GRAPHQL_VALIDATION_FAILED"),
        ("query($d: Date!) { openedSince(day: $d) }", {"d": "not a date"}, "BAD_USER_INPUT"),
        ("query($n: Int) { customers(first: $n) { id } }", {"n": 1.5}, "BAD_USER_INPUT"),
    ],
)
def test_graphqls_own_errors_carry_a_code(
    schema: strawberry.Schema, query: str, variables: dict[str, Any] | None, code: str
) -> None:
    result = schema.execute_sync(query, variable_values=variables)
    assert result.errors
    assert codes(result) == [code] * len(result.errors), response(result)
    assert Calls.count == 0


async def test_validation_errors_carry_a_code_through_the_cached_validation(
    tmp_path: Path,
) -> None:
    from api.graphql.performance import cached_validation

    settings = settings_for(tmp_path, Environment.PRODUCTION)
    cached = strawberry.Schema(
        query=Query,
        extensions=[*security_extensions(settings), cached_validation()],
        config=schema_config(settings),
    )
    for _ in range(2):  # computed, then from the cache
        result = await cached.execute("{ custome(id: 1) { id } }")
        assert codes(result) == ["GRAPHQL_VALIDATION_FAILED"]


def test_the_text_caches_are_bounded_by_bytes_and_skip_large_texts() -> None:
    from api.graphql.performance import _TextCache

    cache: _TextCache[int] = _TextCache(1000, max_bytes=10_000, largest=2_000)
    cache.put("x" * 2_001, 1)
    assert cache.entries == {}  # too large to keep
    for i in range(100):  # ~1.5 KB each: only the last few fit in 10 KB
        cache.put(f"# {i}\n" + "y" * 1_500, i)
    assert cache.bytes <= 10_000
    assert 0 < len(cache.entries) <= 6
    assert cache.get("# 99\n" + "y" * 1_500) == 99
    assert cache.get("# 0\n" + "y" * 1_500) is None
    assert cache.bytes == sum(len(t.encode()) for t in cache.entries)


def test_an_internal_error_is_told_to_the_context_with_its_field_path(
    schema: strawberry.Schema,
) -> None:
    class Context:
        def __init__(self) -> None:
            self.fields: list[str] = []

        def record_internal_error(self, field_path: str) -> None:
            self.fields.append(field_path)

    context = Context()
    result = schema.execute_sync("{ a0: broken }", context_value=context)
    assert codes(result) == ["INTERNAL_ERROR"]
    assert context.fields == ["broken"]  # the field's name, never the client's alias
