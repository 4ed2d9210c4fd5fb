"""The managed local Neo4j: versions, idempotent start, configuration, clear failures."""

from __future__ import annotations

import json
import socket
import stat
from pathlib import Path

import pytest

from graph.errors import DatabaseUnavailableError, PortInUseError
from graph.localserver.manager import LocalNeo4j, LocalServerStatus
from graph.settings import CrkgSettings
from graph.store import open_driver
from tests.conftest import make_test_settings
from tests.support.cli import run_crkg

pytestmark = pytest.mark.db


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_status_reports_neo4j_526_and_gds(local_server: LocalServerStatus) -> None:
    assert local_server.running
    assert local_server.neo4j_version is not None
    assert local_server.neo4j_version.startswith("5.26.")
    assert local_server.gds_version is not None
    assert local_server.gds_version.startswith("2.13.")
    assert local_server.edition == "community"


def test_status_json_from_the_cli(
    local_server: LocalServerStatus, test_settings: CrkgSettings
) -> None:
    completed = run_crkg(test_settings, "neo4j", "status", "--json")
    assert completed.returncode == 0, completed.stderr
    reported = json.loads(completed.stdout)
    assert reported["running"] is True
    # (a bulk-import test restarts the server, so compare with the pid running now)
    assert reported["pid"] == LocalNeo4j(test_settings).running_pid()
    assert reported["uri"] == f"bolt://127.0.0.1:{test_settings.local_bolt_port}"
    assert reported["neo4j_version"].startswith("5.26.")
    assert reported["gds_version"] == local_server.gds_version
    assert Path(reported["credentials_file"]).is_file()


def test_start_on_a_running_server_is_a_no_op(
    local_server: LocalServerStatus, test_settings: CrkgSettings
) -> None:
    manager = LocalNeo4j(test_settings)
    before = manager.running_pid()
    assert before is not None
    again = manager.start()
    assert again.pid == before
    assert again.running


def test_credentials_are_private_and_config_is_loopback_only(
    local_server: LocalServerStatus, test_settings: CrkgSettings
) -> None:
    manager = LocalNeo4j(test_settings)
    mode = stat.S_IMODE(manager.credentials_file.stat().st_mode)
    assert mode == 0o600
    conf = (manager.conf_dir / "neo4j.conf").read_text(encoding="utf-8")
    settings = dict(line.split("=", 1) for line in conf.splitlines() if "=" in line)
    assert settings["server.bolt.listen_address"].startswith("127.0.0.1:")
    assert settings["server.http.enabled"] == "false"
    assert settings["server.https.enabled"] == "false"
    assert settings["dbms.security.auth_enabled"] == "true"
    assert "gds.*" in settings["dbms.security.procedures.unrestricted"]


def test_a_busy_port_is_reported_clearly(
    local_server: LocalServerStatus, test_settings: CrkgSettings
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy_port = int(squatter.getsockname()[1])
        settings = make_test_settings(local_instance="busy-port", local_bolt_port=busy_port)
        with pytest.raises(PortInUseError, match=f"127.0.0.1:{busy_port} is already in use"):
            LocalNeo4j(settings).start()
        completed = run_crkg(settings, "neo4j", "start")
    assert completed.returncode == 5
    assert "already in use" in completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout


def test_a_crashed_server_is_reported_by_status(test_settings: CrkgSettings) -> None:
    settings = make_test_settings(local_instance="crashed", local_bolt_port=_free_port())
    manager = LocalNeo4j(settings)
    manager.run_dir.mkdir(parents=True, exist_ok=True)
    # a pid file left behind by a server that died (no process has this pid)
    manager.pid_file.write_text("999999999", encoding="utf-8")
    status = manager.status()
    assert not status.running
    assert status.problem is not None
    assert "crashed or was killed" in status.problem


async def test_a_stopped_server_gives_a_clear_error() -> None:
    settings = make_test_settings(
        neo4j_uri=f"bolt://127.0.0.1:{_free_port()}", neo4j_password="irrelevant"
    )
    with pytest.raises(DatabaseUnavailableError, match="is not reachable"):
        await open_driver(settings)


def test_a_stopped_server_gives_a_clear_error_in_the_cli(test_settings: CrkgSettings) -> None:
    uri = f"bolt://127.0.0.1:{_free_port()}"
    completed = run_crkg(
        test_settings, "init", CRKG_NEO4J_URI=uri, CRKG_NEO4J_PASSWORD="irrelevant"
    )
    assert completed.returncode == 3
    assert "is not reachable" in completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout
