"""What a GraphQL request must be before anything reads it: checked once, at the edge.

* **Size**: a body larger than ``CRKG_API_MAX_BODY_BYTES`` is refused with HTTP 413 while it
  streams in (:class:`BodySizeLimit`, an ASGI middleware): a declared ``Content-Length``
  above the limit is refused before a byte is read, and a body without one is counted as it
  arrives and refused the moment it passes the limit, so nothing ever holds more than the
  limit in memory.
* **Text**: a body that is not JSON in UTF-8 (a UTF-16 body too, which Python's JSON reader
  would otherwise detect and accept), holds ``NaN`` / ``Infinity`` (not JSON, RFC 8259) or a
  number too long to read, is not a JSON object with a string ``query``, nests deeper than
  any request needs, or holds a lone UTF-16 surrogate anywhere (``"\\ud800"`` decodes to a
  Python string that no UTF-8 encoder, the Neo4j driver's included, accepts) is refused
  with HTTP 400 and a code, so no resolver, loader or driver ever sees it. One generic check
  covers every string and id argument, variables and upsert inputs included. Messages say
  where and what, never the runtime's own words (no Python limits or knobs).
* **Disconnects**: :class:`CancelOnDisconnect` stops a request's work (queued parsing,
  database reads, searches) when its client goes away before an answer was started.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.security.errors import ErrorCode

logger = logging.getLogger("crkg.api.requests")

# Deepest nesting of a request body (the body object is 1): variables of the deepest input
# (upsert rows, algorithm parameters) need a handful; JSON nested hundreds deep only serves
# to exhaust recursion in whatever walks it next.
MAX_JSON_DEPTH = 32
# Longest number the body may hold, in characters: far beyond any Int, Float or amount the
# API takes, and far below what makes reading a number slow.
MAX_NUMBER_CHARACTERS = 100
_SURROGATE = re.compile("[\ud800-\udfff]")


class RequestRefused(Exception):
    """A request refused at the HTTP edge: its status, code and a message saying what and
    where (and any headers the refusal needs, e.g. ``WWW-Authenticate``)."""

    def __init__(
        self,
        status: int,
        code: ErrorCode,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The response body, shaped like GraphQL errors."""
        return {"errors": [{"message": self.message, "extensions": {"code": str(self.code)}}]}


class _NotJson(ValueError):
    """A value the JSON reader must not accept (NaN, Infinity, a number too long)."""


def _refuse_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON value")


def _checked_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARACTERS:
        raise _NotJson(f"a number of {len(text)} digits is longer than the API reads")
    return int(text)


def _checked_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARACTERS:
        raise _NotJson(f"a number of {len(text)} characters is longer than the API reads")
    value = float(text)
    if not math.isfinite(value):
        raise _NotJson(f"{text} is too large for a number")
    return value


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
    >>> graphql_body('{"query": "{ me { role } }"}'.encode("utf-16"))
    Traceback (most recent call last):
    ...
    api.security.requests.RequestRefused: the body is not UTF-8 JSON: it holds a NUL byte ...
    """
    if b"\x00" in raw:  # JSON text never holds a raw NUL; UTF-16 and UTF-32 are full of them
        raise RequestRefused(
            400,
            ErrorCode.INVALID_JSON,
            f"the body is not UTF-8 JSON: it holds a NUL byte (at byte {raw.index(0)}; "
            "UTF-16?); send JSON encoded as UTF-8",
        )
    try:
        text = raw.decode("utf-8")  # strictly: json.loads(bytes) would take UTF-16 and -32
    except UnicodeDecodeError as error:
        raise RequestRefused(
            400,
            ErrorCode.INVALID_JSON,
            f"the body is not UTF-8 (byte {error.start} cannot start or continue a "
            "character); send JSON encoded as UTF-8",
        ) from None
    try:
        body = json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_int=_checked_int,
            parse_float=_checked_float,
        )
    except RecursionError:
        raise _too_deep() from None
    except json.JSONDecodeError as error:
        # the reader's own description and where: never the runtime's internals
        raise RequestRefused(
            400,
            ErrorCode.INVALID_JSON,
            f"the body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
        ) from None
    except _NotJson as error:
        raise RequestRefused(
            400, ErrorCode.INVALID_JSON, f"the body is not valid JSON: {error}"
        ) from None
    except ValueError:  # anything else the reader refuses: a fixed message
        raise RequestRefused(400, ErrorCode.INVALID_JSON, "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise RequestRefused(
            400,
            ErrorCode.INVALID_REQUEST_BODY,
            'the body must be a JSON object {"query": …, "variables": …, '
            f'"operationName": …}}, not {_json_kind(body)}',
        )
    _check_values(body)
    _check_shape(body)
    return body


# The members of a GraphQL request body and the JSON kinds each may be (null: absent).
_MEMBER_KINDS: dict[str, tuple[type, ...]] = {
    "query": (str,),
    "variables": (dict,),
    "operationName": (str,),
    "extensions": (dict,),
}


def _check_shape(body: dict[str, Any]) -> None:
    """``query`` a non-empty string; ``variables`` and ``extensions`` objects;
    ``operationName`` a string (each but ``query`` may be null or absent)."""
    for member, kinds in _MEMBER_KINDS.items():
        value = body.get(member)
        if value is None or isinstance(value, kinds):
            continue
        wanted = "a string" if kinds == (str,) else "a JSON object"
        raise RequestRefused(
            400,
            ErrorCode.INVALID_REQUEST_BODY,
            f"{member} must be {wanted}, not {_json_kind(value)}",
        )
    query = body.get("query")
    if not isinstance(query, str) or not query.strip():
        raise RequestRefused(
            400,
            ErrorCode.INVALID_REQUEST_BODY,
            'the body has no GraphQL document: send {"query": "{ me { role } }"}',
        )


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
        f"{_printable(shown(where))}: a lone UTF-16 surrogate "
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


# The longest part of a caller's bad value an error message repeats.
ECHO_CHARACTERS = 40


def shown(value: str, limit: int = ECHO_CHARACTERS) -> str:
    """At most the first ``limit`` characters of a caller's value, for an error message
    (a message never repeats a long value back: it would cost what it refuses).

    >>> shown("C0000001")
    'C0000001'
    >>> shown("x" * 100)
    'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx… (100 characters)'
    """
    if len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value)} characters)"


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a JSON object"
    return "an array (batches are not supported)"


# --- the ASGI edge -------------------------------------------------------------------------
def _refusal_messages(refused: RequestRefused) -> tuple[Message, Message]:
    body = json.dumps(refused.body(), ensure_ascii=False).encode("utf-8")
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"connection", b"close"),  # the rest of the body is never read
    ]
    start: Message = {"type": "http.response.start", "status": refused.status, "headers": headers}
    return start, {"type": "http.response.body", "body": body}


class BodySizeLimit:
    """Refuses a request body above ``max_bytes`` with HTTP 413 ``REQUEST_TOO_LARGE``.

    A ``Content-Length`` above the limit (or not a number) is answered at once, before the
    application runs; a body without one (chunked) is counted as it streams in, and the
    first chunk past the limit raises :class:`RequestRefused` out of ``receive`` (the app's
    handler answers it), so no more than the limit is ever buffered.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _refusal(self, size: str) -> RequestRefused:
        return RequestRefused(
            413,
            ErrorCode.REQUEST_TOO_LARGE,
            f"the request body is {size}; at most {self.max_bytes} bytes are accepted "
            "(CRKG_API_MAX_BODY_BYTES)",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next(
            (v for k, v in scope.get("headers", ()) if k.lower() == b"content-length"), None
        )
        if declared is not None:
            text = declared.decode("latin-1").strip()
            if not text.isdigit() or int(text) > self.max_bytes:
                size = f"{text} bytes" if text.isdigit() else "of an unreadable length"
                start, body = _refusal_messages(self._refusal(size))
                await send(start)
                await send(body)
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._refusal(f"more than {self.max_bytes} bytes")
            return message

        await self.app(scope, limited, send)


class CancelOnDisconnect:
    """Cancels a request's work when its client disconnects before an answer was started.

    ASGI servers tell an application that its client went away only through ``receive``,
    which nobody calls once the body is read, so an abandoned request would run to the end:
    its queued parsing, its database reads, its searches. Here, once the body has been read,
    a watcher waits on ``receive``; if it says ``http.disconnect`` before the response has
    started, the request's task is cancelled (a parse still waiting for the worker is
    dropped; a running database transaction is rolled back by the driver). Later calls of
    ``receive`` by the app get the watcher's message.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_read = asyncio.Event()
        answering = False

        async def watch() -> Message:
            await body_read.wait()
            return await receive()

        watcher = asyncio.ensure_future(watch())

        async def receiving() -> Message:
            if body_read.is_set():
                return await asyncio.shield(watcher)
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_read.set()
            return message

        async def sending(message: Message) -> None:
            nonlocal answering
            if message["type"] == "http.response.start":
                answering = True
            await send(message)

        work = asyncio.ensure_future(self.app(scope, receiving, sending))
        try:
            await asyncio.wait({work, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done() and watcher.exception() is None:
                message = watcher.result()
                if message["type"] == "http.disconnect" and not answering:
                    logger.info(
                        "client of %s %s went away: its work is cancelled",
                        scope.get("method"),
                        scope.get("path"),
                    )
                    work.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await work
                    return
            await work
        finally:
            for task in (work, watcher):
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
