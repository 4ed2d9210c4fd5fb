"""Settings and the graph model, without a database."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from graph.campaign_models import CAMPAIGN_NODE_MODELS, CAMPAIGN_RELATIONSHIP_MODELS
from graph.model import (
    NODE_MODELS,
    RELATIONSHIP_MODELS,
    Customer,
    Identifier,
    NodeLabel,
    RelType,
    SocialTie,
    TieKind,
)
from graph.settings import CrkgSettings


def test_no_uri_means_the_managed_local_server() -> None:
    settings = CrkgSettings(neo4j_uri=None, local_bolt_port=7777)
    assert settings.uses_local_server
    assert settings.local_uri == "bolt://127.0.0.1:7777"


def test_an_external_uri_needs_a_password() -> None:
    with pytest.raises(ValidationError, match="CRKG_NEO4J_PASSWORD"):
        CrkgSettings(neo4j_uri="neo4j://cluster.example:7687", neo4j_password=None)
    settings = CrkgSettings(neo4j_uri="neo4j://cluster.example:7687", neo4j_password="s3cret")
    assert not settings.uses_local_server
    assert "s3cret" not in repr(settings)


def test_settings_come_from_crkg_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRKG_LOCAL_BOLT_PORT", "7799")
    monkeypatch.setenv("CRKG_NEO4J_DATABASE", "bank")
    settings = CrkgSettings()
    assert (settings.local_bolt_port, settings.neo4j_database) == (7799, "bank")


def test_every_label_and_type_of_the_design_has_a_model() -> None:
    assert {m.label for m in NODE_MODELS + CAMPAIGN_NODE_MODELS} == set(NodeLabel)
    typed = {
        t
        for m in RELATIONSHIP_MODELS + CAMPAIGN_RELATIONSHIP_MODELS
        if isinstance(t := getattr(m, "rel_type", None), RelType)
    }
    social = {kind.rel_type for kind in TieKind}
    assert typed | social == set(RelType)


def test_customer_rejects_unknown_fields_and_bad_values() -> None:
    with pytest.raises(ValidationError, match="nickname"):
        Customer.model_validate(
            {"customer_id": "C1", "kind": "PERSON", "name": "张伟", "nickname": "x"}
        )
    with pytest.raises(ValidationError, match="kind"):
        Customer.model_validate({"customer_id": "C1", "kind": "ALIEN", "name": "张伟"})
    with pytest.raises(ValidationError, match="risk_rating"):
        Customer.model_validate(
            {"customer_id": "C1", "kind": "PERSON", "name": "张伟", "risk_rating": 9}
        )


def test_identifiers_hold_only_a_keyed_hash() -> None:
    with pytest.raises(ValidationError):
        Identifier(key="PHONE:13800138000", kind="PHONE")  # type: ignore[arg-type]
    ok = Identifier(key="PHONE:" + "ab" * 32, kind="PHONE")  # type: ignore[arg-type]
    assert ok.node_key.startswith("PHONE:")


def test_tie_strength_is_bounded() -> None:
    with pytest.raises(ValidationError, match="strength"):
        SocialTie(src_id="A", dst_id="B", kind=TieKind.FRIEND, strength=1.5)
    assert SocialTie(src_id="A", dst_id="B", kind=TieKind.SPOUSE).rel_type is RelType.SPOUSE
