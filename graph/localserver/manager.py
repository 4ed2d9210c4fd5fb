"""The managed local Neo4j: Community 5.26 LTS + open GDS, resolved from Maven Central.

Layout under ``settings.data_dir``::

    cache/maven/                              Maven's local repository (downloads land here)
    cache/neo4j-<ver>-gds-<ver>/lib/          server jars       } assembled once, shared by
    cache/neo4j-<ver>-gds-<ver>/plugins/      GDS jars          } every instance
    cache/neo4j-<ver>-gds-<ver>/manifest.json file names and sizes, to detect a damaged cache
    <instance>/conf/neo4j.conf                written on every start from the settings
    <instance>/data, logs, run, import        the database and its logs
    <instance>/credentials.json               generated password (0600)
    <instance>/run/crkg-neo4j.pid             pid of the running server

There is no Neo4j distribution tarball on Maven Central (``neo4j-community-standalone`` ships
only its pom), so the server is assembled from its jars: ``pom.xml`` beside this file declares
Neo4j and GDS together so that the libraries both use come in one version, and the server is
started the way ``bin/neo4j console`` does it, with ``org.neo4j.server.CommunityEntryPoint``.
GDS jars go to ``plugins/`` (procedures are found by scanning that folder) and, like every
other jar, on the classpath (the extension is found through the service loader).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from graph.errors import (
    LocalServerError,
    PortInUseError,
    ServerCrashedError,
)
from graph.localserver import provision as provisioning
from graph.localserver.java import JavaRuntime, find_java
from graph.localserver.processes import is_our_server, pid_alive, port_is_free, tail
from graph.localserver.provision import PinnedVersions
from graph.settings import CrkgSettings

if TYPE_CHECKING:
    from neo4j import Driver

logger = logging.getLogger(__name__)

ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
ADMIN_ENTRY_POINT = "org.neo4j.server.startup.Neo4jAdminCommand"
STOP_TIMEOUT_SECONDS = 60.0

# What bin/neo4j adds to the command line; the --add-opens are required on Java 17+.
JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
)

ProgressCallback = provisioning.ProgressCallback


def _no_progress(_: str) -> None:
    return None


@dataclass(frozen=True)
class LocalServerStatus:
    """What ``crkg neo4j status`` reports."""

    instance: str
    running: bool
    uri: str
    pid: int | None
    neo4j_version: str | None
    gds_version: str | None
    edition: str | None
    credentials_file: str
    home: str
    log_file: str
    heap_mib: int
    pagecache_mib: int
    problem: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str


def new_password() -> str:
    """A generated password for the managed server, never starting with ``-``: neo4j-admin
    reads ``set-initial-password -x…`` as an option and fails ("Missing required parameter:
    '<password>'"), which ``secrets.token_urlsafe`` invites once in 64 instances (CI saw it).

    >>> password = new_password()
    >>> password[0].isalpha() and len(password) > 30
    True
    """
    return "n" + secrets.token_urlsafe(24)


class LocalNeo4j:
    """Provision, start, stop and inspect one managed Neo4j instance."""

    def __init__(self, settings: CrkgSettings) -> None:
        self.settings = settings
        self.versions = PinnedVersions.from_pom()
        data_dir = settings.resolved_data_dir
        self.maven_repo = data_dir / "cache" / "maven"
        self.distribution = (
            data_dir / "cache" / (f"neo4j-{self.versions.neo4j}-gds-{self.versions.gds}")
        )
        self.home = data_dir / settings.local_instance
        self.conf_dir = self.home / "conf"
        self.run_dir = self.home / "run"
        self.logs_dir = self.home / "logs"
        self.pid_file = self.run_dir / "crkg-neo4j.pid"
        self.console_log = self.logs_dir / "console.log"
        self.credentials_file = self.home / "credentials.json"
        self._process: subprocess.Popen[bytes] | None = None  # reaped on stop if ours

    # --- provisioning -------------------------------------------------------------------
    @property
    def lib_dir(self) -> Path:
        return self.distribution / "lib"

    @property
    def plugins_dir(self) -> Path:
        return self.distribution / "plugins"

    @property
    def manifest_file(self) -> Path:
        return self.distribution / "manifest.json"

    def is_provisioned(self) -> bool:
        return self.manifest_file.exists()

    def verify_cache(self) -> None:
        """Raise :class:`CorruptCacheError` unless every jar the manifest lists is intact."""
        provisioning.verify_cache(self.distribution)

    def provision(self, progress: ProgressCallback = _no_progress) -> None:
        """Resolve Neo4j and GDS through Maven into the cache (once; later calls verify)."""
        with self._locked(self.distribution.with_name(".provision.lock")):
            provisioning.provision(
                self.settings, self.versions, self.distribution, self.maven_repo, progress
            )

    # --- credentials --------------------------------------------------------------------
    def credentials(self) -> Credentials | None:
        try:
            stored = json.loads(self.credentials_file.read_text(encoding="utf-8"))
            return Credentials(user=stored["user"], password=stored["password"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise LocalServerError(
                f"the credentials file {self.credentials_file} is unreadable ({error})"
            ) from error

    def _ensure_credentials(self, java: JavaRuntime) -> Credentials:
        credentials = self.credentials()
        initialised = (self.home / "data" / "databases" / "system").exists()
        # a password that starts with "-" never took effect (see new_password): replace it
        if credentials is None or (credentials.password.startswith("-") and not initialised):
            credentials = Credentials(user="neo4j", password=new_password())
            self.home.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(
                self.credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600
            )
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(asdict(credentials), handle)
        os.chmod(self.credentials_file, 0o600)
        # The initial password only takes effect before the system database exists.
        if not initialised:
            self._run_admin(
                java,
                "dbms",
                "set-initial-password",
                credentials.password,
                secret=credentials.password,
            )
        return credentials

    def _admin(
        self, java: JavaRuntime, *arguments: str, jvm: tuple[str, ...] = ()
    ) -> tuple[list[str], dict[str, str]]:
        """The neo4j-admin command line and environment for this instance."""
        command = [
            str(java.executable),
            *jvm,
            "-cp",
            self._classpath(),
            f"-Dneo4j.home={self.home}",
            ADMIN_ENTRY_POINT,
            *arguments,
        ]
        env = {**os.environ, "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(self.conf_dir)}
        return command, env

    def _run_admin(self, java: JavaRuntime, *arguments: str, secret: str | None = None) -> None:
        command, env = self._admin(java, *arguments)
        completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if completed.returncode != 0:
            shown = " ".join("***" if a == secret else a for a in arguments)
            raise LocalServerError(
                f"neo4j-admin {shown} failed (exit {completed.returncode}): "
                f"{(completed.stderr or completed.stdout).strip()[-2000:]}"
            )

    def import_database(self, arguments: list[str], *, log_file: Path) -> None:
        """Run ``neo4j-admin database import full`` on the stopped server's database."""
        self.run_offline_admin(
            ["database", "import", "full", *arguments], log_file=log_file, what="a bulk import"
        )

    def run_offline_admin(self, arguments: list[str], *, log_file: Path, what: str) -> None:
        """Run a ``neo4j-admin`` command that needs the server stopped (import, dump, load)."""
        if self.running_pid() is not None:
            raise LocalServerError(f"stop the server before {what} (it needs the store to itself)")
        java = find_java(self.settings)
        self.write_config()
        heap = max(1024, self.settings.local_heap_mib // 2)
        command, env = self._admin(java, *arguments, jvm=(f"-Xmx{heap}m", *JVM_FLAGS))
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("w", encoding="utf-8") as log:
            completed = subprocess.run(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.home, check=False
            )
        if completed.returncode != 0:
            raise LocalServerError(
                f"neo4j-admin {' '.join(arguments[:2])} failed (exit {completed.returncode}); "
                f"last lines of {log_file}:\n{tail(log_file, 20)}"
            )

    # --- configuration --------------------------------------------------------------------
    def write_config(self) -> Path:
        for folder in ("conf", "data", "logs", "run", "import"):
            (self.home / folder).mkdir(parents=True, exist_ok=True)
        os.chmod(self.home, 0o700)  # the database, its logs and the credentials are private
        port = self.settings.local_bolt_port
        lines = {
            "server.default_listen_address": "127.0.0.1",
            "server.bolt.listen_address": f"127.0.0.1:{port}",
            "server.bolt.advertised_address": f"127.0.0.1:{port}",
            "server.bolt.enabled": "true",
            "server.http.enabled": "false",
            "server.https.enabled": "false",
            "dbms.security.auth_enabled": "true",
            "server.directories.data": str(self.home / "data"),
            "server.directories.logs": str(self.logs_dir),
            "server.directories.run": str(self.run_dir),
            "server.directories.import": str(self.home / "import"),
            "server.directories.plugins": str(self.plugins_dir),
            "server.directories.lib": str(self.lib_dir),
            "server.memory.heap.initial_size": f"{min(1024, self.settings.local_heap_mib)}m",
            "server.memory.heap.max_size": f"{self.settings.local_heap_mib}m",
            "server.memory.pagecache.size": f"{self.settings.local_pagecache_mib}m",
            "dbms.security.procedures.unrestricted": "gds.*",
            "dbms.security.procedures.allowlist": "gds.*",
            # A lock wait longer than this fails as a TransientError, which the driver retries,
            # instead of hanging a loader or a request forever.
            "db.lock.acquisition.timeout": f"{int(self.settings.local_lock_timeout_seconds)}s",
            "dbms.usage_report.enabled": "false",
        }
        conf = self.conf_dir / "neo4j.conf"
        header = "# Written by `crkg neo4j start` from CRKG_* settings; edits are overwritten.\n"
        conf.write_text(header + "".join(f"{k}={v}\n" for k, v in lines.items()), "utf-8")
        return conf

    def _classpath(self) -> str:
        return f"{self.plugins_dir}/*:{self.conf_dir}/*:{self.lib_dir}/*"

    # --- process control ---------------------------------------------------------------
    def running_pid(self) -> int | None:
        """The pid of this instance's live server, or None (a stale pid file is ignored)."""
        try:
            pid = int(self.pid_file.read_text(encoding="utf-8").strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if is_our_server(pid, self.home) else None

    @contextlib.contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        """One crkg process at a time may provision, start or stop this instance."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def start(self, progress: ProgressCallback = _no_progress) -> LocalServerStatus:
        """Start the server unless it runs already; wait until Bolt and GDS answer."""
        with self._locked(self.home / ".crkg.lock"):
            return self._start(progress)

    def _start(self, progress: ProgressCallback) -> LocalServerStatus:
        if self.running_pid() is not None:
            return self.status()
        stale = self.pid_file.exists()
        java = find_java(self.settings)
        self.provision(progress)
        port = self.settings.local_bolt_port
        if not port_is_free(port):
            raise PortInUseError(port)
        if stale:
            progress("the previous server did not stop cleanly; Neo4j recovers on start")
            self.pid_file.unlink(missing_ok=True)
        self.write_config()
        credentials = self._ensure_credentials(java)
        heap = self.settings.local_heap_mib
        command = [
            str(java.executable),
            f"-Xms{min(1024, heap)}m",
            f"-Xmx{heap}m",
            *JVM_FLAGS,
            "-cp",
            self._classpath(),
            ENTRY_POINT,
            f"--home-dir={self.home}",
            f"--config-dir={self.conf_dir}",
            "--console-mode",
        ]
        progress(f"starting Neo4j {self.versions.neo4j} on {self.settings.local_uri}")
        with self.console_log.open("ab") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.home,
                start_new_session=True,  # survives the CLI; stopped through the pid file
                env={**os.environ, "NEO4J_HOME": str(self.home), "NEO4J_CONF": str(self.conf_dir)},
            )
        self._process = process
        self.pid_file.write_text(str(process.pid), encoding="utf-8")
        self._wait_until_ready(process, credentials, progress)
        status = self.status()
        if status.gds_version is None:
            raise LocalServerError(
                f"Neo4j started but the GDS procedures are missing ({status.problem}); "
                f"see {self.console_log}"
            )
        return status

    def _driver(self, credentials: Credentials, *, connection_timeout: float) -> Driver:
        """A synchronous driver to this instance's Bolt port as the managed user."""
        from neo4j import GraphDatabase

        return GraphDatabase.driver(
            self.settings.local_uri,
            auth=(credentials.user, credentials.password),
            connection_timeout=connection_timeout,
        )

    def _wait_until_ready(
        self, process: subprocess.Popen[bytes], credentials: Credentials, progress: ProgressCallback
    ) -> None:
        from neo4j.exceptions import AuthError, ServiceUnavailable

        deadline = time.monotonic() + self.settings.local_start_timeout_seconds
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            exit_code = process.poll()
            if exit_code is not None:
                self.pid_file.unlink(missing_ok=True)
                raise ServerCrashedError(
                    f"Neo4j exited with code {exit_code} while starting; last lines of "
                    f"{self.console_log}:\n{tail(self.console_log, 25)}"
                )
            try:
                with self._driver(credentials, connection_timeout=2.0) as driver:
                    driver.verify_connectivity()
                    progress("Bolt answers")
                    return
            except AuthError as error:
                raise LocalServerError(
                    f"the managed server refuses the password in {self.credentials_file}: "
                    f"{error.message}",
                    hint=f"the database in {self.home / 'data'} was created with another "
                    "password; stop the server and remove that folder to start afresh",
                ) from error
            except (ServiceUnavailable, OSError) as error:
                last_error = str(error)
            time.sleep(0.5)
        self._stop(_no_progress)
        raise ServerCrashedError(
            f"Neo4j did not answer on {self.settings.local_uri} within "
            f"{self.settings.local_start_timeout_seconds:.0f}s ({last_error}); last lines of "
            f"{self.console_log}:\n{tail(self.console_log, 25)}"
        )

    def stop(self, progress: ProgressCallback = _no_progress) -> bool:
        """Stop the server cleanly (SIGTERM, then SIGKILL after a minute). True if it ran."""
        with self._locked(self.home / ".crkg.lock"):
            return self._stop(progress)

    def _stop(self, progress: ProgressCallback) -> bool:
        pid = self.running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        progress(f"stopping Neo4j (pid {pid})")
        with contextlib.suppress(ProcessLookupError):  # it may exit on its own meanwhile
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.2)
        if pid_alive(pid):
            logger.warning(
                "Neo4j (pid %s) ignored SIGTERM for %ss; killing it", pid, STOP_TIMEOUT_SECONDS
            )
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if pid_alive(pid):
                raise LocalServerError(f"Neo4j (pid {pid}) survived SIGKILL for 30 s")
        self.pid_file.unlink(missing_ok=True)
        if self._process is not None and self._process.pid == pid:
            self._process.wait()  # reap it: this process started it
            self._process = None
        return True

    def status(self) -> LocalServerStatus:
        """Report the instance; asks the server for its versions when it runs."""
        pid = self.running_pid()
        problem: str | None = None
        neo4j_version = gds_version = edition = None
        if pid is None and self.pid_file.exists():
            problem = (
                f"the server is not running but its pid file remains: it crashed or was "
                f"killed; see {self.console_log}"
            )
        elif pid is None:
            problem = "not running"
        else:
            neo4j_version, edition, gds_version, problem = self._ask_versions()
        return LocalServerStatus(
            instance=self.settings.local_instance,
            running=pid is not None,
            uri=self.settings.local_uri,
            pid=pid,
            neo4j_version=neo4j_version,
            gds_version=gds_version,
            edition=edition,
            credentials_file=str(self.credentials_file),
            home=str(self.home),
            log_file=str(self.console_log),
            heap_mib=self.settings.local_heap_mib,
            pagecache_mib=self.settings.local_pagecache_mib,
            problem=problem,
        )

    def _ask_versions(self) -> tuple[str | None, str | None, str | None, str | None]:
        from neo4j.exceptions import Neo4jError, ServiceUnavailable

        credentials = self.credentials()
        if credentials is None:
            return None, None, None, f"no credentials file at {self.credentials_file}"
        try:
            with self._driver(credentials, connection_timeout=5.0) as driver:
                records, _, _ = driver.execute_query(
                    "CALL dbms.components() YIELD name, versions, edition "
                    "RETURN versions[0] AS version, edition",
                    database_="system",
                )
                version, edition = records[0]["version"], records[0]["edition"]
                try:
                    gds_records, _, _ = driver.execute_query("RETURN gds.version() AS v")
                    return version, edition, str(gds_records[0]["v"]), None
                except Neo4jError as error:
                    return version, edition, None, f"GDS unavailable: {error.message}"
        except (Neo4jError, ServiceUnavailable, OSError) as error:
            return None, None, None, f"the server process runs but does not answer: {error}"
