"""The HTTP edge's check of GraphQL request bodies, without a server."""

from __future__ import annotations

import json

import pytest

from api.security.requests import MAX_JSON_DEPTH, RequestRefused, graphql_body


def _refused(body: bytes) -> RequestRefused:
    """What the edge says when it refuses ``body`` (it must refuse it)."""
    with pytest.raises(RequestRefused) as refused:
        graphql_body(body)
    return refused.value


def _nested(levels: int) -> bytes:
    """A body whose deepest value sits ``levels`` levels down (the body object is 1)."""
    inner = "[" * (levels - 2) + "]" * (levels - 2)
    return ('{"query": "{ me { role } }", "variables": {"x": ' + inner + "}}").encode()


def test_a_body_as_deep_as_allowed_passes_and_one_deeper_is_refused() -> None:
    assert graphql_body(_nested(MAX_JSON_DEPTH))["query"] == "{ me { role } }"
    refused = _refused(_nested(MAX_JSON_DEPTH + 1))
    assert (refused.status, refused.code) == (400, "JSON_TOO_DEEP")


def test_deeper_than_the_interpreter_can_decode_is_too_deep_not_a_crash() -> None:
    refused = _refused(b"[" * 100_000 + b"]" * 100_000)
    assert refused.code == "JSON_TOO_DEEP"


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
    refused = _refused(json.dumps(payload).encode())
    assert refused.code == "INVALID_UNICODE"
    assert refused.message.startswith(f"{where}: a lone UTF-16 surrogate")
    json.dumps(refused.body(), ensure_ascii=False).encode()  # the answer can be sent


# --- strict text: UTF-8 only, RFC 8259 JSON only, the API's own words ----------------------
def test_a_body_that_is_not_utf8_is_refused_even_if_python_could_read_it() -> None:
    # json.loads(bytes) detects UTF-16 and UTF-32 and would accept them
    for encoding in ("utf-16", "utf-16-le", "utf-32"):
        refused = _refused('{"query": "{ me { role } }"}'.encode(encoding))
        assert refused.code == "INVALID_JSON"
        assert "UTF-8" in refused.message


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_nan_and_infinity_are_not_json(constant: str) -> None:
    refused = _refused(f'{{"query": "q", "variables": {{"x": {constant}}}}}'.encode())
    assert refused.code == "INVALID_JSON"


def test_a_number_too_long_to_read_is_refused_without_naming_python() -> None:
    refused = _refused(b'{"query": "q", "variables": {"s": ' + b"9" * 5000 + b"}}")
    assert refused.code == "INVALID_JSON"
    assert "5000 digits" in refused.message
    for internal in ("sys.", "set_int_max_str_digits", "4300", "Exceeds"):
        assert internal not in refused.message


def test_a_syntax_error_says_where() -> None:
    refused = _refused(b'{"query": ')
    assert refused.code == "INVALID_JSON"
    assert "line 1 column 11" in refused.message


@pytest.mark.parametrize(
    ("payload", "said"),
    [
        ({"query": 42}, "query must be a string, not a number"),
        ({"query": "{ me { role } }", "variables": "x"}, "variables must be a JSON object"),
        ({"query": "{ me { role } }", "variables": [1]}, "variables must be a JSON object"),
        ({"query": "{ me { role } }", "operationName": 1}, "operationName must be a string"),
        ({"query": "{ me { role } }", "extensions": 1}, "extensions must be a JSON object"),
        ({}, "no GraphQL document"),
        ({"query": "   "}, "no GraphQL document"),
        ({"query": None}, "no GraphQL document"),
    ],
)
def test_a_body_of_the_wrong_shape_is_refused_with_a_code(
    payload: dict[str, object], said: str
) -> None:
    refused = _refused(json.dumps(payload).encode())
    assert refused.code == "INVALID_REQUEST_BODY"
    assert said in refused.message


def test_a_long_bad_value_is_echoed_only_as_a_prefix() -> None:
    refused = _refused(json.dumps({"query": "q", "variables": {"k" * 10_000: "\ud800"}}).encode())
    assert len(refused.message) < 300
