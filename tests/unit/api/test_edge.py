"""The ASGI edge without a server: the body size limit and cancelling abandoned requests.

A tiny ASGI application stands in for the API (the middlewares wrap any ASGI app), driven
with hand-made ``receive`` and ``send``, so what the middleware reads, answers and cancels
is observed exactly.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.security.requests import BodySizeLimit, CancelOnDisconnect, RequestRefused

LIMIT = 1024


def _echo_app() -> Starlette:
    async def echo(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse({"read": len(body)})

    async def refused(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestRefused)
        return JSONResponse(error.body(), status_code=error.status)

    return Starlette(
        routes=[Route("/graphql", echo, methods=["POST"])],
        exception_handlers={RequestRefused: refused},
    )


def _post(*headers: tuple[bytes, bytes], **extra: Any) -> dict[str, Any]:
    """The ASGI scope of a POST to /graphql with ``headers``."""
    return {"type": "http", "method": "POST", "path": "/graphql", "headers": list(headers), **extra}


def _answer(app: Any, scope: dict[str, Any], receive: Any) -> list[dict[str, Any]]:
    """The messages ``app`` sends for one request read through ``receive``."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_a_body_within_the_limit_passes() -> None:
    client = TestClient(BodySizeLimit(_echo_app(), max_bytes=LIMIT))
    response = client.post("/graphql", content=b"x" * LIMIT)
    assert response.status_code == 200
    assert response.json() == {"read": LIMIT}


def test_a_declared_length_above_the_limit_is_refused_before_the_app_runs() -> None:
    called = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(scope["path"])

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body must not be read")

    declared = _post((b"content-length", str(150 * 1024 * 1024).encode()))
    sent = _answer(BodySizeLimit(app, max_bytes=LIMIT), declared, receive)
    assert called == []
    assert sent[0]["status"] == 413
    body = json.loads(sent[1]["body"])
    assert body["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert str(LIMIT) in body["errors"][0]["message"]


def test_a_streamed_body_is_refused_as_soon_as_it_passes_the_limit() -> None:
    handed_out = 0

    async def receive() -> dict[str, Any]:
        nonlocal handed_out
        handed_out += 1  # a chunked body of 10,000 chunks of 1,000 bytes (10 MB)
        return {"type": "http.request", "body": b"y" * 1000, "more_body": handed_out < 10_000}

    chunked = _post((b"transfer-encoding", b"chunked"), query_string=b"")
    sent = _answer(BodySizeLimit(_echo_app(), max_bytes=LIMIT), chunked, receive)
    assert sent[0]["status"] == 413
    body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
    assert body["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert handed_out == 2  # the chunk that passed the limit was the last one taken


def test_a_request_whose_client_goes_away_is_cancelled() -> None:
    state: dict[str, Any] = {"cancelled": False, "finished": False}

    async def slow_app(scope: Any, receive: Any, send: Any) -> None:
        message = await receive()
        assert message["type"] == "http.request"
        try:
            await asyncio.sleep(30)  # e.g. a long database read
            state["finished"] = True
        except asyncio.CancelledError:
            state["cancelled"] = True
            raise

    async def scenario() -> list[dict[str, Any]]:
        messages = [{"type": "http.request", "body": b"{}", "more_body": False}]
        gone = asyncio.Event()

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop(0)
            await gone.wait()
            return {"type": "http.disconnect"}

        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        running = asyncio.ensure_future(CancelOnDisconnect(slow_app)(_post(), receive, send))
        await asyncio.sleep(0.1)
        gone.set()  # the client disconnects
        await asyncio.wait_for(running, timeout=5)
        return sent

    sent = asyncio.run(scenario())
    assert state == {"cancelled": True, "finished": False}
    assert sent == []


def test_a_request_whose_client_stays_is_answered() -> None:
    client = TestClient(CancelOnDisconnect(_echo_app()))
    for _ in range(3):
        response = client.post("/graphql", content=b"{}")
        assert response.status_code == 200
        assert response.json() == {"read": 2}
