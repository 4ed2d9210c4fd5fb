"""Test tiers (see CONVENTIONS.md): ``tests/unit`` needs no database; ``tests/integration``
runs against the real managed Neo4j + GDS, started once per session on its own instance and
port so a developer's demo database is never touched. Nothing here is mocked or skipped: if
the server cannot start, the database tests fail and say why.

Every test that needs the server carries the one ``db`` marker, so ``pytest -m "not db"``
runs with no Neo4j at all: collection fails on an integration test without it, and on any
test that asks for a database fixture without it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from neo4j import AsyncDriver

from graph.localserver.manager import LocalNeo4j, LocalServerStatus
from graph.settings import CrkgSettings, Environment
from graph.store import GraphStore, open_driver

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = PROJECT_ROOT / "tests" / "integration"
DATABASE_FIXTURES = frozenset({"local_server", "driver", "store", "empty_db"})
TEST_BOLT_PORT = int(os.environ.get("CRKG_TEST_BOLT_PORT", "7688"))
# Two developers (or two agents) on one machine each take their own instance and port.
TEST_INSTANCE = os.environ.get("CRKG_TEST_INSTANCE", "test")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse a test that needs the server but lacks the ``db`` marker (and so would run,
    and fail, under ``-m "not db"``)."""
    unmarked = [
        item.nodeid
        for item in items
        if item.get_closest_marker("db") is None
        and (
            Path(str(item.path)).is_relative_to(INTEGRATION)
            or DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        )
    ]
    if unmarked:
        raise pytest.UsageError(
            "tests that need the server must be marked @pytest.mark.db (module: pytestmark):\n  "
            + "\n  ".join(unmarked)
        )
    wiping_tests_first(items)


def wiping_tests_first(items: list[pytest.Item]) -> None:
    """Within each module, the tests that empty the database (``empty_db``) run before the
    rest, each group still in the shuffled order pytest-randomly gave it.

    A module-scoped fixture that loads a bank is made at its first use and kept; a test that
    wipes the database between two of its users would leave the second one an empty graph
    (test_gds.py failed so under one seed). Modules keep their order; this is a stable sort,
    so the seed still replays the whole order.
    """
    module_rank: dict[str, int] = {}
    for item in items:
        module_rank.setdefault(str(item.path), len(module_rank))
    items.sort(
        key=lambda item: (
            module_rank[str(item.path)],
            0 if "empty_db" in getattr(item, "fixturenames", ()) else 1,
        )
    )


def make_test_settings(**overrides: object) -> CrkgSettings:
    """Settings of the test instance; keyword arguments override single fields."""
    values: dict[str, object] = {
        "environment": Environment.TEST,
        "neo4j_uri": None,
        "neo4j_password": None,
        "data_dir": Path(os.environ.get("CRKG_DATA_DIR", PROJECT_ROOT / ".crkg")),
        "local_instance": TEST_INSTANCE,
        "local_bolt_port": TEST_BOLT_PORT,
        "local_heap_mib": 2048,
        "local_pagecache_mib": 512,
        # short, so the transient-error test sees a real lock timeout quickly
        "local_lock_timeout_seconds": 2.0,
        "neo4j_max_transaction_retry_seconds": 30.0,
    }
    values.update(overrides)
    return CrkgSettings.model_validate(values)


def cli_env(settings: CrkgSettings, **extra: str) -> dict[str, str]:
    """The environment a `crkg` subprocess needs to act on the same instance as `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRKG_")}
    env.update(
        CRKG_DATA_DIR=str(settings.data_dir),
        CRKG_LOCAL_INSTANCE=settings.local_instance,
        CRKG_LOCAL_BOLT_PORT=str(settings.local_bolt_port),
        CRKG_LOCAL_HEAP_MIB=str(settings.local_heap_mib),
        CRKG_LOCAL_PAGECACHE_MIB=str(settings.local_pagecache_mib),
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def test_settings() -> CrkgSettings:
    return make_test_settings()


@pytest.fixture(scope="session")
def local_server(test_settings: CrkgSettings) -> Iterator[LocalServerStatus]:
    """The real Neo4j for the whole session; stopped at the end if this session started it."""
    manager = LocalNeo4j(test_settings)
    started_here = manager.running_pid() is None
    status = manager.start()
    yield status
    if started_here and not os.environ.get("CRKG_TEST_KEEP_SERVER"):
        manager.stop()


@pytest.fixture(scope="session")
async def driver(
    local_server: LocalServerStatus, test_settings: CrkgSettings
) -> AsyncIterator[AsyncDriver]:
    neo4j_driver = await open_driver(test_settings)
    yield neo4j_driver
    await neo4j_driver.close()


@pytest.fixture(scope="session")
def store(driver: AsyncDriver, test_settings: CrkgSettings) -> GraphStore:
    return GraphStore.from_settings(driver, test_settings)


@pytest.fixture
async def empty_db(driver: AsyncDriver, test_settings: CrkgSettings) -> GraphStore:
    """The test database with every node removed (the schema stays)."""
    await driver.execute_query(
        "MATCH (n) DETACH DELETE n",
        database_=test_settings.neo4j_database,
    )
    return GraphStore.from_settings(driver, test_settings)


async def load_into_empty_db(
    driver: AsyncDriver, settings: CrkgSettings, bank: Path, rejects_dir: Path
) -> GraphStore:
    """Wipe the test database, apply the schema and load ``bank``, which must load cleanly."""
    from graph.repositories.schema import SchemaRepository
    from loaders.pipeline import Loader

    await driver.execute_query("MATCH (n) DETACH DELETE n", database_=settings.neo4j_database)
    store = GraphStore.from_settings(driver, settings)
    await SchemaRepository(store).apply()
    report = await Loader(store, settings, rejects_dir=rejects_dir).load(bank)
    assert report.rows_rejected == 0, report.to_json()
    return store
