"""Provisioning the managed Neo4j: Neo4j and GDS resolved once through Maven (``pom.xml``
beside this file pins both) into a shared cache, and that cache checked before each start."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from graph.errors import CorruptCacheError, LocalServerError, PrerequisiteMissingError
from graph.localserver.java import find_java
from graph.localserver.processes import tail
from graph.settings import CrkgSettings

POM_FILE = Path(__file__).with_name("pom.xml")
GDS_GROUP_ID = "org.neo4j.gds"

ProgressCallback = Callable[[str], None]


@dataclass(frozen=True)
class PinnedVersions:
    neo4j: str
    gds: str

    @classmethod
    def from_pom(cls, pom: Path = POM_FILE) -> PinnedVersions:
        text = pom.read_text(encoding="utf-8")
        found = {
            name: re.search(rf"<{name}\.version>([^<]+)</{name}\.version>", text)
            for name in ("neo4j", "gds")
        }
        missing = [name for name, match in found.items() if match is None]
        if missing:
            raise LocalServerError(f"{pom} does not pin {', '.join(missing)}.version")
        return cls(neo4j=found["neo4j"].group(1), gds=found["gds"].group(1))  # type: ignore[union-attr]


def verify_cache(distribution: Path) -> None:
    """Raise :class:`CorruptCacheError` unless every jar the manifest lists is intact."""
    manifest_file = distribution / "manifest.json"
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        files: dict[str, int] = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CorruptCacheError(
            f"the server cache manifest {manifest_file} is unreadable ({error})",
            hint=f"remove {distribution} and run `crkg neo4j start` again",
        ) from error
    for relative, size in files.items():
        jar = distribution / relative
        if not jar.is_file() or jar.stat().st_size != size or not zipfile.is_zipfile(jar):
            raise CorruptCacheError(
                f"the cached server jar {jar} is missing or damaged",
                hint=f"remove {distribution} and run `crkg neo4j start` again",
            )


def provision(
    settings: CrkgSettings,
    versions: PinnedVersions,
    distribution: Path,
    maven_repo: Path,
    progress: ProgressCallback,
) -> None:
    """Resolve Neo4j and GDS through Maven into ``distribution`` (once; later calls verify)."""
    if (distribution / "manifest.json").exists():
        try:
            verify_cache(distribution)
            return
        except CorruptCacheError as error:
            progress(f"{error.message}; resolving it again")
            shutil.rmtree(distribution)
    maven = shutil.which(settings.maven_command)
    if maven is None:
        raise PrerequisiteMissingError(
            f"Maven ({settings.maven_command!r}) is not on PATH; it is needed once, to "
            f"resolve Neo4j {versions.neo4j} and GDS {versions.gds} from Maven "
            "Central",
            hint="install Maven 3.6+ (Debian/Ubuntu: `apt-get install maven`) or set "
            "CRKG_MAVEN_COMMAND",
        )
    java = find_java(settings)
    staging = distribution.with_name(distribution.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    maven_repo.mkdir(parents=True, exist_ok=True)
    maven_log = distribution.with_name(distribution.name + ".maven.log")
    for folder, selector in (
        ("plugins", f"-DincludeGroupIds={GDS_GROUP_ID}"),
        ("lib", f"-DexcludeGroupIds={GDS_GROUP_ID}"),
    ):
        progress(
            f"resolving {folder} (Neo4j {versions.neo4j}, GDS {versions.gds}) from Maven Central"
        )
        command = [
            maven,
            "-B",
            "-f",
            str(POM_FILE),
            f"-Dmaven.repo.local={maven_repo}",
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging / folder}",
            selector,
        ]
        env = {**os.environ, "JAVA_HOME": str(java.executable.parent.parent)}
        with maven_log.open("a", encoding="utf-8") as log:
            completed = subprocess.run(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, check=False
            )
        if completed.returncode != 0:
            raise LocalServerError(
                f"Maven could not resolve the server (exit {completed.returncode}); "
                f"last lines of {maven_log}:\n{tail(maven_log, 15)}",
                hint="Maven Central must be reachable the first time; later starts use the cache",
            )
    files = {
        str(jar.relative_to(staging)): jar.stat().st_size for jar in sorted(staging.rglob("*.jar"))
    }
    if not any(name.startswith("plugins/") for name in files):
        raise LocalServerError(f"Maven resolved no GDS jars into {staging / 'plugins'}")
    manifest = {"neo4j": versions.neo4j, "gds": versions.gds, "files": files}
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    # The rename makes a half-finished resolution invisible: a crash leaves only staging.
    staging.rename(distribution)
    progress(f"cached {len(files)} jars in {distribution}")
