"""What a GraphQL request body must be before anything reads it: checked once, at the edge.

A body that is not JSON, not a JSON object, nested deeper than any request needs, or that
holds a lone UTF-16 surrogate anywhere (``"\\ud800"`` decodes to a Python string that no
UTF-8 encoder, the Neo4j driver's included, accepts) is refused with HTTP 400 and a code,
so no resolver, loader or driver ever sees it. One generic check covers every string and id
argument, variables and upsert inputs included.
"""

from __future__ import annotations

import json
import re
from typing import Any

from api.security.errors import ErrorCode

# Deepest nesting of a request body (the body object is 1): variables of the deepest input
# (upsert rows, algorithm parameters) need a handful; JSON nested hundreds deep only serves
# to exhaust recursion in whatever walks it next.
MAX_JSON_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


class RequestRefused(Exception):
    """A request refused at the HTTP edge: its status, code and a message saying what and
    where."""

    def __init__(self, status: int, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        """The response body, shaped like GraphQL errors."""
        return {"errors": [{"message": self.message, "extensions": {"code": str(self.code)}}]}


def graphql_body(raw: bytes) -> dict[str, Any]:
    """The decoded body of a GraphQL POST, or :class:`RequestRefused` saying what is wrong.

    Examples
    --------
    >>> graphql_body(b'{"query": "{ me { role } }"}')
    {'query': '{ me { role } }'}
    >>> graphql_body(b'42')
    Traceback (most recent call last):
    ...
    api.security.requests.RequestRefused: the body must be a JSON object ...
    """
    try:
        body = json.loads(raw)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise RequestRefused(
            400, ErrorCode.INVALID_JSON, f"the body is not valid JSON in UTF-8: {error}"
        ) from None
    if not isinstance(body, dict):
        raise RequestRefused(
            400,
            ErrorCode.INVALID_REQUEST_BODY,
            'the body must be a JSON object {"query": …, "variables": …, '
            f'"operationName": …}}, not {_json_kind(body)}',
        )
    _check_values(body)
    return body


def _check_values(body: dict[str, Any]) -> None:
    """Depth and text of every value, walked without recursion."""
    stack: list[tuple[Any, str, int]] = [(body, "", 1)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{key}" if where else key
                _check_text(key, path)
                stack.append((item, path, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))
        elif isinstance(value, str):
            _check_text(value, where)


def _check_text(text: str, where: str) -> None:
    found = _SURROGATE.search(text)
    if found is None:
        return
    raise RequestRefused(
        400,
        ErrorCode.INVALID_UNICODE,
        f"{_printable(where)}: a lone UTF-16 surrogate "
        f"({_printable(found.group())}) at character {found.start()} is not text; "
        "send strings of whole Unicode characters",
    )


def _too_deep() -> RequestRefused:
    return RequestRefused(
        400, ErrorCode.JSON_TOO_DEEP, f"the body nests JSON deeper than {MAX_JSON_DEPTH} levels"
    )


def _printable(text: str) -> str:
    """``text`` with lone surrogates written as escapes (a response cannot carry them)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array (batches are not supported)"
