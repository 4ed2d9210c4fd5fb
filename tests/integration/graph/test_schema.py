"""`crkg init`: every key constrained, the indexes online, idempotent, version recorded."""

from __future__ import annotations

import pytest

from graph.campaign_models import CAMPAIGN_NODE_MODELS
from graph.model import NODE_MODELS
from graph.queries.schema import CONSTRAINTS, INDEXES, SCHEMA_VERSION
from graph.repositories.schema import SchemaRepository
from graph.store import GraphStore

pytestmark = pytest.mark.db


async def _drop_schema(store: GraphStore) -> None:
    async with store.driver.session(database=store.database) as session:
        for name in [r["name"] async for r in await session.run("SHOW CONSTRAINTS YIELD name")]:
            await session.run("DROP CONSTRAINT $name", name=name)
        # the lookup indexes belong to Neo4j itself
        names = [
            r["name"]
            async for r in await session.run(
                "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name"
            )
        ]
        for name in names:
            await session.run("DROP INDEX $name", name=name)
        await session.run("MATCH (v:SchemaVersion) DELETE v")


async def test_init_creates_everything_then_is_a_no_op(store: GraphStore) -> None:
    await _drop_schema(store)
    repository = SchemaRepository(store)
    assert (await repository.state()).version is None

    first = await repository.apply()
    expected = [name for name, _ in (*CONSTRAINTS, *INDEXES)]
    assert first.created == expected
    assert first.version == SCHEMA_VERSION

    state = await repository.state()
    assert set(state.constraints) == {name for name, _ in CONSTRAINTS}
    for name, _ in INDEXES:
        assert state.indexes[name] == "ONLINE", name

    second = await repository.apply()
    assert second.created == []
    assert second.already_present == expected
    assert second.applied_at == first.applied_at  # the marker was not rewritten
    after = await repository.state()
    assert after.constraints == state.constraints
    assert after.indexes == state.indexes


async def test_every_node_key_has_a_uniqueness_constraint(store: GraphStore) -> None:
    await SchemaRepository(store).apply()
    async with store.driver.session(database=store.database) as session:
        result = await session.run(
            "SHOW CONSTRAINTS YIELD type, labelsOrTypes, properties "
            "WHERE type = 'UNIQUENESS' RETURN labelsOrTypes[0] AS label, properties[0] AS key"
        )
        constrained = {(r["label"], r["key"]) async for r in result}
    for model in NODE_MODELS + CAMPAIGN_NODE_MODELS:
        assert (model.label.value, model.key_property) in constrained, model.__name__
