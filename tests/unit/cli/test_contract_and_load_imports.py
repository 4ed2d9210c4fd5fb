"""`crkg contract` publishes the contract; `crkg load` does not import the generator."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from cli.main import app
from loaders.contract import FILE_ORDER, SPECS
from loaders.published_contract import describe


def test_contract_json_is_the_contract() -> None:
    result = CliRunner().invoke(app, ["contract", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == json.loads(json.dumps(describe()))


def test_contract_table_names_every_file_and_column() -> None:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["contract"])
    assert result.exit_code == 0, result.output
    for name in FILE_ORDER:
        assert name in result.output
        for column in SPECS[name].columns:
            assert column in result.output, (name, column)
    assert "1..5" in result.output  # risk_rating's domain


def test_the_load_command_does_not_import_the_generator() -> None:
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from cli.main import app\n"
        "result = CliRunner().invoke(app, ['load', '--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "import loaders.pipeline, loaders.bulk\n"
        "light = {'synthbank', 'synthbank.limits'}  # the package and its limits: no numpy\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('synthbank', 'algorithms')\n"
        "             and m not in light))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
