"""Issue 16 item 4: the GraphQL schema fuzzed as every role, and an injection corpus in every
string argument and upsert field, against the real API on a loaded bank.

Queries come from hypothesis-graphql (documents generated from the schema the API serves,
valid by construction, with arbitrary argument values); hypothesis runs derandomized, so a
failure reproduces. Every answer must be: not a 5xx, every error with a code and none
``INTERNAL_ERROR``, no internal text (tracebacks, Cypher, driver errors), and none of the
bank's phone numbers, id numbers or e-mail addresses unless the role may read them (admin:
all; an RM: their own book). The injection corpus then goes into every ``String`` / ``ID``
argument of every query field for every role, and into every upsert field: the graph's
fingerprint (every domain node and relationship with its properties) is unchanged by the
reads, and an upsert stores a hostile string verbatim or refuses the row with a reason.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import graphql
import hypothesis.strategies as st
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis_graphql import nodes, queries

from api.app import create_app
from api.graphql.schema import build_schema
from api.security.auth import Role
from api.security.tokens import mint_token
from graph.settings import CrkgSettings
from graph.store import GraphStore
from tests.support.banks import module_bank, query

pytestmark = pytest.mark.db

bank, fuzz_db = module_bank(
    "fuzz-bank",
    customers=300,
    seed=47,
    algorithms=("louvain", "pagerank", "guarantee_circles"),
    db_fixture="fuzz_db",
)

# what an answer must never show: a traceback, a file, the driver's or the server's own words
INTERNAL = re.compile(
    r"Traceback|File \"|\.py\b|line \d+, in|Neo\.(Client|Database|Transient)Error|"
    r"neo4j\.exceptions|MATCH \(|RETURN |CypherSyntax|strawberry\.|pydantic_core"
)

INJECTIONS: tuple[str, ...] = (
    "' OR 1=1 --",
    '" OR ""="',
    "x'}) MATCH (n) DETACH DELETE n //",
    '"}) WITH 1 AS x MATCH (n) DETACH DELETE n //',
    "}]->(m) DETACH DELETE m RETURN 1 //",
    "C0001` SET n.pwned = true //",
    "`Customer`",
    ":Customer",
    "Customer:Admin",
    "$customer_id",
    "{customer_id: 'C0001'}",
    "\\u0027 OR 1=1",
    "../../../../etc/passwd",
    "{{7*7}}${7*7}",
    "<script>alert(1)</script>",
    "null",
    "NaN",
    "-1",
    "C0001\u200b",  # zero-width space
    "\u202eC0001",  # right-to-left override
    "Ｃ０００１",  # fullwidth confusable of an id
    "С0001",  # Cyrillic С
    "张伟'); DROP TABLE customers; --",
    "🙂" * 50,
    "A" * 20_000,
)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def client(fuzz_db: GraphStore, test_settings: CrkgSettings) -> Iterator[TestClient]:
    with TestClient(create_app(test_settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def people(bank: Path) -> list[dict[str, str]]:
    return _rows(bank / "customers.csv")


@pytest.fixture(scope="module")
def rm_id(people: list[dict[str, str]]) -> str:
    books: dict[str, int] = {}
    for row in people:
        if row["rm_id"]:
            books[row["rm_id"]] = books.get(row["rm_id"], 0) + 1
    return max(sorted(books), key=lambda rm: books[rm])


def _pii(rows: list[dict[str, str]]) -> set[str]:
    """Phone numbers, id numbers, e-mails and full names (masked names keep one character)."""
    return {row[c] for row in rows for c in ("phone", "id_number", "email", "name") if row.get(c)}


@pytest.fixture(scope="module")
def forbidden(people: list[dict[str, str]], rm_id: str) -> dict[Role, set[str]]:
    """The PII values each role must never see unmasked."""
    every = _pii(people)
    own = _pii([row for row in people if row["rm_id"] == rm_id])
    return {
        Role.ADMIN: set(),
        Role.RM: every - own,
        Role.MARKETER: every,
        Role.RISK: every,
        Role.CHANNEL: every,  # contact exports only, and those are mutations on approved lists
    }


@pytest.fixture(scope="module")
def tokens(test_settings: CrkgSettings, rm_id: str) -> dict[Role, str]:
    return {
        role: mint_token(
            test_settings, role=role, subject=rm_id if role is Role.RM else f"fuzz-{role.value}"
        )
        for role in Role
    }


@pytest.fixture(scope="module")
def sdl(test_settings: CrkgSettings) -> str:
    return build_schema(test_settings).as_str()


def _post(client: TestClient, token: str, document: str, **variables: Any) -> Any:
    return client.post(
        "/graphql",
        json={"query": document, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )


def check_answer(
    response: Any, forbidden_values: set[str], what: str, echo: str | None = None
) -> None:
    """Everything the fuzzing asserts of one answer (``echo``: the hostile value sent, which
    an error may quote back — "no Customer with key …" — and is not the API's own text)."""
    assert response.status_code < 500 or response.status_code == 503, (what, response.text[:500])
    assert response.status_code != 500, (what, response.text[:500])
    text = response.text
    if echo is not None:  # quoted whole, or cut short with an ellipsis
        escaped = json.dumps(echo)[1:-1]
        text = text.replace(escaped, "<sent>")
        for length in range(min(len(escaped), 200), 3, -1):
            text = text.replace(escaped[:length] + "\\u2026", "<sent>")
    assert not INTERNAL.search(text), (what, INTERNAL.search(text), text[:800])
    leaked = [value for value in forbidden_values if value in text]
    assert not leaked, (what, leaked[:3])
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        for error in body.get("errors") or []:
            code = (error.get("extensions") or {}).get("code")
            assert code, (what, error)
            assert code != "INTERNAL_ERROR", (what, error)


def _string_node(value: str) -> graphql.StringValueNode:
    return nodes.String(value)


SCALARS = {
    "Date": st.dates().map(lambda d: _string_node(d.isoformat())),
    "DateTime": st.datetimes().map(lambda d: _string_node(d.isoformat())),
    "Decimal": st.decimals(allow_nan=False, allow_infinity=False, places=2).map(
        lambda d: _string_node(str(d))
    ),
    "JSON": st.just(_string_node("{}")),
}


def _fuzz(
    role: Role,
    client: TestClient,
    tokens: dict[Role, str],
    forbidden: dict[Role, set[str]],
    sdl: str,
) -> None:
    @settings(
        max_examples=80,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(document=queries(sdl, custom_scalars=SCALARS, allow_x00=True))
    def one(document: str) -> None:
        check_answer(_post(client, tokens[role], document), forbidden[role], document[:300])

    one()


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_generated_queries_as_every_role(
    role: Role,
    client: TestClient,
    tokens: dict[Role, str],
    forbidden: dict[Role, set[str]],
    sdl: str,
) -> None:
    _fuzz(role, client, tokens, forbidden, sdl)


# --- the injection corpus in every string argument ------------------------------------------
def _filler(type_: graphql.GraphQLInputType, customer: str) -> str | None:
    """A literal for a required argument that is not under test (None: cannot fill it)."""
    if isinstance(type_, graphql.GraphQLNonNull):
        return _filler(type_.of_type, customer)
    if isinstance(type_, graphql.GraphQLList):
        inner = _filler(type_.of_type, customer)
        return None if inner is None else f"[{inner}, {inner}]"
    if isinstance(type_, graphql.GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, graphql.GraphQLScalarType):
        return {
            "ID": json.dumps(customer),
            "String": json.dumps(customer),
            "Int": "1",
            "Float": "0.5",
            "Boolean": "false",
            "Date": '"2026-06-30"',
        }.get(type_.name)
    return None


def injection_documents(sdl: str, customer: str) -> list[tuple[str, str]]:
    """(field.argument, document with ``$v`` in that argument) for every String / ID argument
    of every query and mutation field (but the upserts) whose other required arguments can be
    filled: a hostile id names nothing, so a mutation given one changes nothing either."""
    schema = graphql.build_schema(sdl)
    assert schema.query_type is not None
    assert schema.mutation_type is not None
    found = []
    roots = [("query", name, field) for name, field in schema.query_type.fields.items()]
    roots += [  # the upserts store what they are given: their fields are checked below
        ("mutation", name, field)
        for name, field in schema.mutation_type.fields.items()
        if not name.startswith("upsert")
    ]
    for operation, name, field in roots:
        returned = graphql.get_named_type(field.type)
        selection = "" if isinstance(returned, graphql.GraphQLScalarType) else " { __typename }"
        for arg_name, arg in field.args.items():
            named = graphql.get_named_type(arg.type)
            if not (
                isinstance(named, graphql.GraphQLScalarType) and named.name in ("String", "ID")
            ):
                continue
            if isinstance(graphql.get_nullable_type(arg.type), graphql.GraphQLList):
                continue  # list arguments get the corpus through their items below
            others = []
            for other_name, other in field.args.items():
                if other_name == arg_name or not isinstance(other.type, graphql.GraphQLNonNull):
                    continue
                if other.default_value is not graphql.Undefined:
                    continue
                literal = _filler(other.type, customer)
                if literal is None:
                    break
                others.append(f"{other_name}: {literal}")
            else:
                variable_type = "ID" if named.name == "ID" else "String"
                arguments = ", ".join([f"{arg_name}: $v", *others])
                document = (
                    f"{operation} Fuzz($v: {variable_type}!) {{ {name}({arguments}){selection} }}"
                )
                found.append((f"{name}.{arg_name}", document))
    return found


async def fingerprint(store: GraphStore) -> list[str]:
    """Every domain node and relationship with its properties (audit and jobs left out: reads
    of unmasked PII rightly leave audit events)."""
    rows = await query(
        store,
        """
        MATCH (n) WHERE NOT n:AuditEvent AND NOT n:AlgorithmJob AND NOT n:LoadRun
        OPTIONAL MATCH (n)-[r]->(m)
        RETURN labels(n) AS labels, [k IN keys(n) | [k, n[k]]] AS props,
               type(r) AS type, elementId(m) AS other,
               [k IN keys(r) | [k, r[k]]] AS rprops
        """,
    )
    return sorted(
        json.dumps(
            [r["labels"], sorted(r["props"]), r["type"], r["other"], sorted(r["rprops"] or [])],
            default=str,
        )
        for r in rows
    )


async def test_an_injection_corpus_in_every_string_argument_changes_nothing(
    fuzz_db: GraphStore,
    client: TestClient,
    tokens: dict[Role, str],
    forbidden: dict[Role, set[str]],
    sdl: str,
    people: list[dict[str, str]],
) -> None:
    before = await fingerprint(fuzz_db)
    documents = injection_documents(sdl, people[0]["customer_id"])
    assert len(documents) >= 25, [where for where, _ in documents]
    for role in Role:
        for where, document in documents:
            for hostile in INJECTIONS:
                response = _post(client, tokens[role], document, v=hostile)
                what = f"{role.value} {where} {hostile[:40]!r}"
                check_answer(response, forbidden[role], what, echo=hostile)
    assert await fingerprint(fuzz_db) == before


CREATE_CAMPAIGN = """
mutation($input: CampaignInput!) { createCampaign(input: $input) { campaignId } }
"""

UPSERT_CUSTOMERS = """
mutation($input: [CustomerInput!]!) {
  upsertCustomers(input: $input) { received loaded rejected { index field reason message } }
}
"""


async def test_hostile_strings_in_upsert_fields_are_stored_verbatim_or_refused(
    fuzz_db: GraphStore, client: TestClient, tokens: dict[Role, str]
) -> None:
    fits = [hostile for hostile in INJECTIONS if len(hostile) <= 512]  # a name's limit
    assert len(fits) == len(INJECTIONS) - 1
    rows = [
        {"customerId": f"FUZZ-{i:03d}", "kind": "PERSON", "name": hostile, "city": hostile}
        for i, hostile in enumerate(fits)
    ]
    response = _post(client, tokens[Role.ADMIN], UPSERT_CUSTOMERS, input=rows)
    check_answer(response, set(), "upsertCustomers")
    body = response.json()
    assert not body.get("errors"), body["errors"]
    result = body["data"]["upsertCustomers"]
    refused = {r["index"]: r for r in result["rejected"]}
    assert result["received"] == len(rows)
    assert result["loaded"] + len(refused) == len(rows)
    for reject in refused.values():
        assert reject["reason"], reject
        assert reject["message"], reject
    stored = await query(
        fuzz_db,
        "MATCH (c:Customer) WHERE c.customer_id STARTS WITH 'FUZZ-' "
        "RETURN c.customer_id AS id, c.name AS name, c.city AS city",
    )
    by_id = {r["id"]: r for r in stored}
    for line, row in enumerate(rows):
        if line in refused:
            assert row["customerId"] not in by_id
            continue
        kept = by_id[row["customerId"]]
        # verbatim but for the contract's trimming of surrounding whitespace
        assert (kept["name"], kept["city"]) == (row["name"].strip(), row["city"].strip()), line
    # the injections did not run: every customer is still there, nothing grew a stray property
    pwned = await query(fuzz_db, "MATCH (n) WHERE n.pwned IS NOT NULL RETURN count(n) AS n")
    assert pwned[0]["n"] == 0
    # every other text field of a customer, and the key itself: stored as sent, or refused
    fields = {"branchId": "branch_id", "phone": "phone", "idNumber": "id_number", "email": "email"}
    more = [
        {"customerId": f"FUZZ-F{i:03d}", "kind": "PERSON", "name": "x",
         **{field: hostile for field in fields}}
        for i, hostile in enumerate(fits)
    ] + [
        {"customerId": hostile, "kind": "PERSON", "name": f"id {i}"}
        for i, hostile in enumerate(fits) if len(hostile) <= 128
    ]  # fmt: skip
    response = _post(client, tokens[Role.ADMIN], UPSERT_CUSTOMERS, input=more)
    check_answer(response, set(), "upsertCustomers fields")
    result = response.json()["data"]["upsertCustomers"]
    refused = {r["index"] for r in result["rejected"]}
    assert all(r["reason"] and r["message"] for r in result["rejected"])
    for index, row in enumerate(more):
        found = await query(
            fuzz_db,
            "MATCH (c:Customer {customer_id: $id}) RETURN c {.*} AS c",
            id=row["customerId"].strip(),
        )
        if index in refused:
            assert found == [], row
            continue
        assert len(found) == 1, row
        stored = found[0]["c"]
        for field, prop in fields.items():
            if field in row:
                assert stored.get(prop) == row[field].strip(), (field, row[field][:40])
    # a hostile kind or RM is refused with its reason, never stored
    bad = [{"customerId": "FUZZ-K1", "kind": "PERSON' OR 1=1 --", "name": "x"},
           {"customerId": "FUZZ-K2", "kind": "PERSON", "name": "x", "rmId": "RM') DETACH DELETE n //"}]  # fmt: skip
    response = _post(client, tokens[Role.ADMIN], UPSERT_CUSTOMERS, input=bad)
    reasons = [r["reason"] for r in response.json()["data"]["upsertCustomers"]["rejected"]]
    assert reasons == ["BAD_ENUM", "DANGLING_REFERENCE"], reasons
    # and every text field of a campaign: stored as sent, or refused with a code
    product = (await query(fuzz_db, "MATCH (p:Product) RETURN p.product_id AS id LIMIT 1"))[0]
    for i, hostile in enumerate(h for h in fits if len(h) <= 128):
        for field in ("campaignId", "name", "owner", "scenarioId"):
            campaign = {"campaignId": f"FZ-{field}-{i}", "name": "x", "productId": product["id"],
                        "channel": "SMS", "purpose": "MARKETING", field: hostile}  # fmt: skip
            response = _post(client, tokens[Role.MARKETER], CREATE_CAMPAIGN, input=campaign)
            check_answer(response, set(), f"createCampaign {field}", echo=hostile)
            body = response.json()
            made = (body.get("data") or {}).get("createCampaign")
            if made is None:
                assert body["errors"][0]["extensions"]["code"], body
                continue
            stored = await query(
                fuzz_db,
                "MATCH (k:Campaign {campaign_id: $id}) RETURN k {.*} AS k",
                id=campaign["campaignId"].strip(),
            )
            prop = {"campaignId": "campaign_id", "scenarioId": "scenario_id"}.get(field, field)
            assert stored[0]["k"].get(prop) == hostile.strip(), (field, hostile[:40])
    # a value beyond the argument's limit refuses the document, with the limit, storing nothing
    huge = [{"customerId": "FUZZ-HUGE", "kind": "PERSON", "name": "A" * 20_000}]
    response = _post(client, tokens[Role.ADMIN], UPSERT_CUSTOMERS, input=huge)
    check_answer(response, set(), "upsertCustomers huge", echo=huge[0]["name"])
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["ARGUMENT_TOO_LONG"]
    gone = await query(fuzz_db, "MATCH (c:Customer {customer_id: 'FUZZ-HUGE'}) RETURN c")
    assert gone == []
    # hostile rows refused whole: a NUL in a name is a reject with its reason, not a blank name
    response = _post(
        client,
        tokens[Role.ADMIN],
        UPSERT_CUSTOMERS,
        input=[{"customerId": "FUZZ-NUL", "kind": "PERSON", "name": "\x00"}],
    )
    result = response.json()["data"]["upsertCustomers"]
    assert [r["reason"] for r in result["rejected"]] == ["CONTROL_CHARACTER"]
