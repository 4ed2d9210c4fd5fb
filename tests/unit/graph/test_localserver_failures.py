"""The managed server's failure messages, with no server involved."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from graph.errors import CorruptCacheError, PrerequisiteMissingError
from graph.localserver import java as java_module
from graph.localserver.java import find_java
from graph.localserver.manager import LocalNeo4j
from graph.localserver.provision import PinnedVersions
from graph.settings import CrkgSettings


def test_the_pom_pins_neo4j_526_and_gds_213() -> None:
    versions = PinnedVersions.from_pom()
    assert versions.neo4j.startswith("5.26.")
    assert versions.gds.startswith("2.13.")


def test_missing_java_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(java_module, "JVM_ROOT", tmp_path / "no-jvms")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(PrerequisiteMissingError, match="Java 17 or 21") as caught:
        find_java(CrkgSettings(data_dir=tmp_path))
    assert caught.value.hint is not None
    assert "apt-get install openjdk-17" in caught.value.hint


def test_a_java_of_the_wrong_version_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_home = tmp_path / "jdk-25"
    (fake_home / "bin").mkdir(parents=True)
    fake_java = fake_home / "bin" / "java"
    fake_java.write_text("#!/bin/sh\necho 'openjdk version \"25.0.1\" 2025-10-21' >&2\n")
    fake_java.chmod(0o755)
    monkeypatch.setattr(java_module, "JVM_ROOT", tmp_path / "no-jvms")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(PrerequisiteMissingError, match="Java 25"):
        find_java(CrkgSettings(data_dir=tmp_path, java_home=fake_home))


def test_missing_maven_says_what_to_install(tmp_path: Path) -> None:
    settings = CrkgSettings(data_dir=tmp_path, maven_command="mvn-that-is-not-installed")
    with pytest.raises(PrerequisiteMissingError, match="Maven") as caught:
        LocalNeo4j(settings).provision()
    assert caught.value.hint is not None
    assert "apt-get install maven" in caught.value.hint


def _fake_distribution(tmp_path: Path) -> LocalNeo4j:
    server = LocalNeo4j(CrkgSettings(data_dir=tmp_path))
    jar = server.distribution / "lib" / "some-library.jar"
    jar.parent.mkdir(parents=True)
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
    manifest = {"files": {"lib/some-library.jar": jar.stat().st_size}}
    server.manifest_file.write_text(json.dumps(manifest), encoding="utf-8")
    return server


def test_an_intact_cache_verifies(tmp_path: Path) -> None:
    _fake_distribution(tmp_path).verify_cache()


def test_a_truncated_jar_is_reported_as_a_corrupt_cache(tmp_path: Path) -> None:
    server = _fake_distribution(tmp_path)
    jar = server.distribution / "lib" / "some-library.jar"
    jar.write_bytes(jar.read_bytes()[:10])
    with pytest.raises(CorruptCacheError, match="missing or damaged") as caught:
        server.verify_cache()
    assert caught.value.hint is not None
    assert str(server.distribution) in caught.value.hint


def test_a_damaged_manifest_is_reported_as_a_corrupt_cache(tmp_path: Path) -> None:
    server = _fake_distribution(tmp_path)
    server.manifest_file.write_text("{not json", encoding="utf-8")
    with pytest.raises(CorruptCacheError, match="manifest"):
        server.verify_cache()
