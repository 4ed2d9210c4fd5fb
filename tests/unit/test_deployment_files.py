"""docker-compose.yml, the Dockerfile and the README's configuration table agree with the code.

Docker cannot run on the build machines, so this checks the wiring, not a running container.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from graph.settings import CrkgSettings

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _readme_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `(CRKG_[A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))


def test_compose_runs_neo4j_526_with_gds_and_a_health_check() -> None:
    neo4j = _compose()["services"]["neo4j"]
    assert neo4j["image"].startswith("neo4j:5.26")
    environment = neo4j["environment"]
    assert "graph-data-science" in environment["NEO4J_PLUGINS"]
    assert environment["NEO4J_AUTH"].startswith("neo4j/${CRKG_NEO4J_PASSWORD:?")
    assert "gds.*" in environment["NEO4J_dbms_security_procedures_unrestricted"]
    assert "gds.version()" in " ".join(neo4j["healthcheck"]["test"])
    assert {v.split(":")[0] for v in neo4j["volumes"]} >= {"neo4j-data", "neo4j-logs"}
    assert all(p.startswith("127.0.0.1:") for p in neo4j["ports"])


def test_compose_starts_the_api_once_neo4j_is_healthy() -> None:
    compose = _compose()
    api = compose["services"]["api"]
    assert api["build"] == "."
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"
    environment = api["environment"]
    assert environment["CRKG_NEO4J_URI"] == "bolt://neo4j:7687"
    assert environment["CRKG_NEO4J_PASSWORD"].startswith("${CRKG_NEO4J_PASSWORD")
    documented = _readme_variables()
    assert set(environment) <= documented, set(environment) - documented
    assert set(compose["volumes"]) == {"neo4j-data", "neo4j-logs", "neo4j-plugins"}


def test_the_dockerfile_installs_crkg_and_serves() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11", dockerfile, flags=re.MULTILINE)
    assert "pip install --require-hashes -r requirements.lock" in dockerfile
    assert "pip install --no-deps ." in dockerfile
    # every package the wheel is built from (the restructure added cli/ and synthbank/, and
    # the image lacked them: `pip install .` cannot build without them)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert set(packages) >= {"graph", "api", "loaders", "algorithms", "synthbank", "cli"}
    for package in packages:
        assert f"COPY {package} ./{package}" in dockerfile, package
    assert "crkg serve" in dockerfile


def test_the_readme_documents_every_setting() -> None:
    fields = {f"CRKG_{name.upper()}" for name in CrkgSettings.model_fields}
    documented = _readme_variables()
    assert fields == documented, {
        "undocumented": fields - documented,
        "documented but unknown": documented - fields,
    }


def test_the_readme_quick_start_has_exactly_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("##", 1)[0]
    block = quick_start.split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert [c.split("#")[0].strip() for c in commands] == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci
