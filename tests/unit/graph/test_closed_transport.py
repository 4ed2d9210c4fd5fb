"""uvloop's RuntimeError on a reset connection, which the driver lets through, is crkg's
"unavailable" (a read) or "outcome unknown" (a write), never an internal error.

Found by the load-with-faults smoke: a connection reset made the driver close the pool's
other connections, uvloop raised "the handler is closed", and the API answered 500. The
session here is a stand-in that raises what uvloop raised (the driver's own reaction to a
reset is exercised on the real server by tests/integration/api/test_load_faults_smoke.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from graph.errors import DatabaseUnavailableError, WriteOutcomeUnknownError
from graph.store import GraphStore

UVLOOP = RuntimeError(
    "unable to perform operation on <TCPTransport closed=True reading=False 0x1>; "
    "the handler is closed"
)


class _Session:
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def __aenter__(self) -> _Session:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def execute_read(self, work: Any) -> Any:
        raise self.error

    execute_write = execute_read


class _Driver:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def session(self, **_: Any) -> _Session:
        return _Session(self.error)


async def test_a_read_on_a_reset_connection_is_unavailable() -> None:
    store = GraphStore(_Driver(UVLOOP), "neo4j")  # type: ignore[arg-type]
    with pytest.raises(DatabaseUnavailableError):
        await store.fetch("read", "RETURN 1")


async def test_a_write_on_a_reset_connection_has_an_unknown_outcome() -> None:
    store = GraphStore(_Driver(UVLOOP), "neo4j")  # type: ignore[arg-type]
    with pytest.raises(WriteOutcomeUnknownError):
        await store.execute("write", "RETURN 1")


async def test_other_runtime_errors_are_not_hidden() -> None:
    store = GraphStore(_Driver(RuntimeError("Event loop is closed")), "neo4j")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="Event loop is closed"):
        await store.fetch("read", "RETURN 1")
