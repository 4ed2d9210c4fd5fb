"""The Java runtime the managed Neo4j runs on: the first Java 17 or 21 found."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from graph.errors import PrerequisiteMissingError
from graph.settings import CrkgSettings

SUPPORTED_JAVA_MAJORS = (17, 21)  # what Neo4j 5.26 runs on
JVM_ROOT = Path("/usr/lib/jvm")  # where Debian and Ubuntu install JDKs


@dataclass(frozen=True)
class JavaRuntime:
    executable: Path
    major: int
    description: str


def find_java(settings: CrkgSettings) -> JavaRuntime:
    """The first Java 17 or 21 among CRKG_JAVA_HOME, JAVA_HOME, /usr/lib/jvm and PATH."""
    candidates: list[Path] = []
    if settings.java_home is not None:
        candidates.append(settings.java_home / "bin" / "java")
    if os.environ.get("JAVA_HOME"):
        candidates.append(Path(os.environ["JAVA_HOME"]) / "bin" / "java")
    if JVM_ROOT.is_dir():
        candidates.extend(sorted(JVM_ROOT.glob("*/bin/java")))
    on_path = shutil.which("java")
    if on_path:
        candidates.append(Path(on_path))
    seen: list[str] = []
    for candidate in dict.fromkeys(candidates):
        runtime = _probe_java(candidate)
        if runtime is None:
            continue
        if runtime.major in SUPPORTED_JAVA_MAJORS:
            return runtime
        seen.append(f"{candidate} (Java {runtime.major})")
    found = "; found only: " + ", ".join(seen) if seen else "; no Java was found"
    raise PrerequisiteMissingError(
        f"Neo4j 5.26 needs Java 17 or 21{found}",
        hint="install it (Debian/Ubuntu: `apt-get install openjdk-17-jdk-headless`) or point "
        "CRKG_JAVA_HOME at one",
    )


def _probe_java(executable: Path) -> JavaRuntime | None:
    if not executable.is_file():
        return None
    try:
        completed = subprocess.run(
            [str(executable), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', completed.stderr)
    if match is None:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8" style
        major = int(match.group(2))
    return JavaRuntime(executable=executable.resolve(), major=major, description=completed.stderr)
