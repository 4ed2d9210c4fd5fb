"""The ``crkg`` command as the tests run it: a subprocess on the test instance."""

from __future__ import annotations

import subprocess
import sys

from graph.settings import CrkgSettings
from tests.conftest import cli_env

CRKG = [sys.executable, "-m", "cli"]  # the same as the console script


def run_crkg(
    settings: CrkgSettings, *args: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """``crkg *args`` on the instance of ``settings`` (``env`` added to its environment),
    run to the end; its exit code is the caller's to check."""
    return subprocess.run(
        [*CRKG, *args],
        env=cli_env(settings, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
