"""A production start with unsafe settings is refused, one clear line per problem."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.app import create_app
from cli.main import app as cli_app
from graph.production_checks import (
    ProductionConfigurationError,
    check_production_settings,
    production_problems,
)
from graph.settings import CrkgSettings, Environment, get_settings
from tests.support.settings import SOUND_PRODUCTION, settings_in

GOOD_JWT = SOUND_PRODUCTION["auth_jwt_secret"]


def production(tmp_path: Path, **overrides: Any) -> CrkgSettings:
    return settings_in(tmp_path, **(SOUND_PRODUCTION | overrides))


def problems(settings: CrkgSettings, environ: dict[str, str] | None = None) -> list[str]:
    return production_problems(settings, environ=environ or {}, dev_mode=False)


def test_a_sound_production_configuration_passes(tmp_path: Path) -> None:
    assert problems(production(tmp_path)) == []
    check_production_settings(production(tmp_path))  # raises nothing


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"auth_jwt_secret": None}, "CRKG_AUTH_JWT_SECRET is not set"),
        ({"auth_jwt_secret": "short"}, "CRKG_AUTH_JWT_SECRET is too short: 5 bytes"),
        ({"auth_jwt_algorithm": "RS256"}, "CRKG_AUTH_JWT_PUBLIC_KEY is not set"),
        ({"pii_hash_key": None}, "CRKG_PII_HASH_KEY is not set"),
        ({"pii_hash_key": "k" * 10}, "CRKG_PII_HASH_KEY is too short: 10 bytes"),
        ({"pii_hash_key": GOOD_JWT}, "CRKG_PII_HASH_KEY equals CRKG_AUTH_JWT_SECRET"),
        ({"neo4j_password": "neo4j"}, "CRKG_NEO4J_PASSWORD is a default password"),
        ({"neo4j_password": "Password "}, "CRKG_NEO4J_PASSWORD is a default password"),
        ({"api_allow_remote_dev": True}, "CRKG_API_ALLOW_REMOTE_DEV is true"),
        ({"algorithm_write_pause_seconds": 0.5}, "CRKG_ALGORITHM_WRITE_PAUSE_SECONDS is set"),
    ],
)
def test_each_unsafe_setting_gives_its_own_line(
    tmp_path: Path, overrides: dict[str, Any], expected: str
) -> None:
    [line] = problems(production(tmp_path, **overrides))
    assert line.startswith(expected), line


@pytest.mark.parametrize("variable", ["PYTHONDEVMODE", "PYTHONASYNCIODEBUG"])
def test_python_debug_mode_is_refused(tmp_path: Path, variable: str) -> None:
    [line] = problems(production(tmp_path), environ={variable: "1"})
    assert line == f"{variable} is set: Python's debug mode must be off in production"
    assert problems(production(tmp_path), environ={variable: "0"}) == []


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    settings = production(
        tmp_path, auth_jwt_secret="short", pii_hash_key=None, neo4j_password="password"
    )
    with pytest.raises(ProductionConfigurationError) as raised:
        check_production_settings(settings)
    assert len(raised.value.problems) == 3
    message = str(raised.value)
    assert message.startswith("refusing to start in production: 3 setting(s) to fix")
    assert all(f"  - {problem}" in message for problem in raised.value.problems)


def test_development_and_test_are_never_refused(tmp_path: Path) -> None:
    for environment in (Environment.DEVELOPMENT, Environment.TEST):
        settings = production(tmp_path, environment=environment, auth_jwt_secret=None)
        assert production_problems(settings, environ={"PYTHONDEVMODE": "1"}, dev_mode=True) == []


def test_the_app_refuses_to_be_built(tmp_path: Path) -> None:
    # any ASGI server (uvicorn api.app:...) builds the app, so the check is there too
    with pytest.raises(ProductionConfigurationError, match="CRKG_NEO4J_PASSWORD"):
        create_app(production(tmp_path, neo4j_password="neo4j"))


@pytest.fixture
def production_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "CRKG_ENVIRONMENT": "production",
        "CRKG_DATA_DIR": str(tmp_path),
        "CRKG_NEO4J_URI": "bolt://127.0.0.1:1",  # never reached: refused before connecting
        "CRKG_NEO4J_PASSWORD": "neo4j",
        "CRKG_AUTH_JWT_SECRET": "too-short",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CRKG_PII_HASH_KEY", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("production_environment")
def test_crkg_serve_refuses_with_one_line_each() -> None:
    result = CliRunner().invoke(cli_app, ["serve", "--host", "0.0.0.0"])  # noqa: S104
    assert result.exit_code == ProductionConfigurationError.exit_code, result.output
    output = " ".join(result.output.split())  # rich wraps long lines
    assert "refusing to start in production: 3 setting(s) to fix" in output
    assert "CRKG_AUTH_JWT_SECRET is too short: 9 bytes" in output
    assert "CRKG_PII_HASH_KEY is not set" in output
    assert "CRKG_NEO4J_PASSWORD is a default password" in output
    assert "not reachable" not in output  # it never tried the database
