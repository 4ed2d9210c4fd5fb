"""`crkg token` mints a development token the API's verifier accepts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.security.auth import Role
from api.security.tokens import TokenVerifier
from cli.main import app
from graph.settings import CrkgSettings, get_settings


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CRKG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CRKG_ENVIRONMENT", "development")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_token_for_an_rm_names_their_book(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["token", "--role", "rm", "--subject", "RM0007"])
    assert result.exit_code == 0, result.output
    principal = TokenVerifier.from_settings(CrkgSettings(data_dir=data_dir)).verify(
        result.output.strip()
    )
    assert principal.role is Role.RM
    assert principal.subject == "RM0007"
    assert principal.rm_id == "RM0007"


def test_an_unknown_role_is_refused(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["token", "--role", "superuser", "--subject", "x"])
    assert result.exit_code != 0
    assert "superuser" in result.output


def test_a_token_longer_lived_than_the_maximum_is_not_minted(data_dir: Path) -> None:
    result = CliRunner().invoke(
        app, ["token", "--role", "admin", "--subject", "ops", "--ttl-minutes", "100000"]
    )
    assert result.exit_code == 2, result.output
    assert "above the maximum of 1440 min" in result.output
    assert "eyJ" not in result.output  # no token printed


def test_without_a_database_an_rm_token_is_minted_without_a_warning(data_dir: Path) -> None:
    # nothing answers (the managed server was never started here): nothing to check against
    result = CliRunner().invoke(app, ["token", "--role", "rm", "--subject", "RM9999"])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
