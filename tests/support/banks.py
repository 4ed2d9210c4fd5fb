"""What the integration tests do with a generated bank: generate it once per module, load it,
run algorithms on it, read its files and query what landed."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from neo4j import AsyncDriver

from algorithms.runner import run_algorithm
from graph.settings import CrkgSettings
from graph.store import GraphStore
from synthbank.bank import generate_bank
from tests.conftest import load_into_empty_db


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of a bank file (or any CSV with a header), as text."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


async def query(store: GraphStore, cypher: str, **params: Any) -> list[dict[str, Any]]:
    """The records of a test's own read, as dicts."""
    records, _, _ = await store.driver.execute_query(cypher, params, database_=store.database)
    return [dict(r) for r in records]


def generated_bank(
    tmp_path_factory: pytest.TempPathFactory, name: str, *, customers: int, seed: int
) -> Path:
    """A synthetic bank written under a fresh temporary folder named ``name``."""
    out = tmp_path_factory.mktemp(name) / "export"
    generate_bank(out, customers=customers, seed=seed)
    return out


# an algorithm to run: its name, or its name and parameters
Run = str | tuple[str, dict[str, Any]]


async def loaded_with(
    driver: AsyncDriver,
    settings: CrkgSettings,
    bank: Path,
    tmp_path_factory: pytest.TempPathFactory,
    algorithms: Sequence[Run] = (),
) -> GraphStore:
    """``bank`` loaded into the emptied test database, then ``algorithms`` run in order (on
    the engine each chooses)."""
    store = await load_into_empty_db(driver, settings, bank, tmp_path_factory.mktemp("rejects"))
    for run in algorithms:
        name, params = (run, {}) if isinstance(run, str) else run
        await run_algorithm(store, settings, name, params)
    return store


def module_bank(
    name: str,
    *,
    customers: int,
    seed: int,
    algorithms: Sequence[Run] = (),
    db_fixture: str = "db",
) -> Any:
    """Module-scoped ``bank`` (the generated files) and ``db`` (them loaded, ``algorithms``
    run) fixtures: ``bank, db = module_bank("my-bank", customers=1500, seed=31)``; the
    second is registered as ``db_fixture``, which must be the name it is assigned to."""

    @pytest.fixture(scope="module")
    def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
        return generated_bank(tmp_path_factory, name, customers=customers, seed=seed)

    @pytest.fixture(scope="module", name=db_fixture)
    async def db(
        driver: AsyncDriver,
        test_settings: CrkgSettings,
        bank: Path,
        tmp_path_factory: pytest.TempPathFactory,
    ) -> GraphStore:
        return await loaded_with(driver, test_settings, bank, tmp_path_factory, algorithms)

    return bank, db
