"""`crkg token` mints a development token the API's verifier accepts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.security.auth import Role, TokenVerifier
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
