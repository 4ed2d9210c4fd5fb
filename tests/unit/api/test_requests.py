"""The HTTP edge's check of GraphQL request bodies, without a server."""

from __future__ import annotations

import json

import pytest

from api.security.requests import MAX_JSON_DEPTH, RequestRefused, graphql_body


def _nested(levels: int) -> bytes:
    """A body whose deepest value sits ``levels`` levels down (the body object is 1)."""
    inner = "[" * (levels - 2) + "]" * (levels - 2)
    return ('{"query": "{ me { role } }", "variables": {"x": ' + inner + "}}").encode()


def test_a_body_as_deep_as_allowed_passes_and_one_deeper_is_refused() -> None:
    assert graphql_body(_nested(MAX_JSON_DEPTH))["query"] == "{ me { role } }"
    with pytest.raises(RequestRefused) as refused:
        graphql_body(_nested(MAX_JSON_DEPTH + 1))
    assert (refused.value.status, refused.value.code) == (400, "JSON_TOO_DEEP")


def test_deeper_than_the_interpreter_can_decode_is_too_deep_not_a_crash() -> None:
    with pytest.raises(RequestRefused) as refused:
        graphql_body(b"[" * 100_000 + b"]" * 100_000)
    assert refused.value.code == "JSON_TOO_DEEP"


def test_whole_characters_beyond_the_bmp_are_text() -> None:
    # a surrogate pair escaped in JSON is one character once decoded
    body = graphql_body(b'{"query": "{ me { role } }", "variables": {"name": "\\ud83d\\ude00"}}')
    assert body["variables"]["name"] == "😀"


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"query": "q", "variables": {"a\ud800": 1}}, "variables.a\\ud800"),
        (
            {"query": "q", "variables": {"rows": [{"x": "ok"}, {"x": "\udfff"}]}},
            "variables.rows[1].x",
        ),
        ({"query": "q", "operationName": "\ud800"}, "operationName"),
    ],
)
def test_a_lone_surrogate_in_a_key_or_value_is_refused_naming_where(
    payload: dict[str, object], where: str
) -> None:
    with pytest.raises(RequestRefused) as refused:
        graphql_body(json.dumps(payload).encode())
    assert refused.value.code == "INVALID_UNICODE"
    assert refused.value.message.startswith(f"{where}: a lone UTF-16 surrogate")
    json.dumps(refused.value.body(), ensure_ascii=False).encode()  # the answer can be sent
