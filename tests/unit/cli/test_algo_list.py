"""`crkg algo list` shows every parameter's default, computed ones by their factory."""

from __future__ import annotations

from typer.testing import CliRunner

from cli.main import app


def test_a_computed_default_is_named_not_undefined() -> None:
    result = CliRunner().invoke(app, ["algo", "list"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    assert "PydanticUndefined" not in result.output
    assert "as_of=today()" in result.output  # guarantee circles, control groups, exposure
