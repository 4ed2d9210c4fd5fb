"""Issue 16 review: what the API says when Neo4j goes away mid-request.

HTTP 503 ("not carried out", Retry-After) only when no top-level field of the document
produced anything: a mutation field that committed before Neo4j went away is answered 200
with its data and the later fields' errors. A commit whose answer was lost (the driver's
``IncompleteCommit``) is not "unavailable, not carried out" but "outcome unknown".
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from neo4j.exceptions import IncompleteCommit, ServiceUnavailable, SessionExpired

from api.graphql.router import answers_unavailable
from api.security.errors import ErrorCode, public_error
from graph.errors import DatabaseUnavailableError, WriteOutcomeUnknownError
from graph.store import unreachable_error


def _error(code: str | None, path: list[str | int] | None) -> GraphQLError:
    return GraphQLError("x", path=path, extensions={"code": code} if code else None)


def test_503_only_when_no_field_produced_data() -> None:
    away = _error("DATABASE_UNAVAILABLE", ["second"])
    # the first mutation field committed, the second found Neo4j away: 200, per-field errors
    assert not answers_unavailable({"first": {"written": 3}, "second": None}, [away])
    # a field that completed with null (no error under it) produced its answer too
    assert not answers_unavailable({"first": None, "second": None}, [away])
    # nothing produced: 503
    assert answers_unavailable({"second": None}, [away])
    assert answers_unavailable(None, [_error("DATABASE_UNAVAILABLE", None)])
    both: list[GraphQLError] = [away, _error("DATABASE_UNAVAILABLE", ["first", "rows", 0])]
    assert answers_unavailable({"first": None, "second": None}, both)
    # other errors are never a 503
    assert not answers_unavailable({"second": None}, [_error("BAD_USER_INPUT", ["second"])])
    assert not answers_unavailable({"a": 1}, [])
    outcome: Any = _error("WRITE_OUTCOME_UNKNOWN", ["second"])
    assert answers_unavailable({"second": None}, [outcome])
    assert not answers_unavailable({"first": True, "second": None}, [outcome])


def test_a_lost_commit_is_outcome_unknown_not_unavailable() -> None:
    uri = "bolt://db.internal:7687"
    lost = unreachable_error(IncompleteCommit("connection lost during commit"), uri)
    assert isinstance(lost, WriteOutcomeUnknownError)
    assert not isinstance(lost, DatabaseUnavailableError)
    for away in (ServiceUnavailable("no route"), SessionExpired("gone")):
        assert isinstance(unreachable_error(away, uri), DatabaseUnavailableError)

    answered = public_error(
        GraphQLError("raw", path=["upsertCustomers"], original_error=lost),
        hide_suggestions=True,
    )
    assert answered.extensions is not None
    assert answered.extensions["code"] == str(ErrorCode.WRITE_OUTCOME_UNKNOWN)
    assert "outcome of the write is unknown" in answered.message
    assert "not carried out" not in answered.message
    assert "db.internal" not in answered.message + str(answered.extensions)

    unavailable = public_error(
        GraphQLError(
            "raw", path=["customer"], original_error=DatabaseUnavailableError(uri, "refused")
        ),
        hide_suggestions=True,
    )
    assert unavailable.extensions is not None
    assert unavailable.extensions["code"] == str(ErrorCode.DATABASE_UNAVAILABLE)
    assert "db.internal" not in unavailable.message
