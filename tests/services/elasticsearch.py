"""A real single-node Elasticsearch for tests and local development.

Stage: test harness only. Standard library only (no pytest, no elasticsearch client), so
`python -m tests.services` runs anywhere the repo is checked out.

Why the integration-test distribution from Maven Central: it is the only Elasticsearch build
reachable from our machines and CI. It ships the server core, netty and x-pack core/security
only: no ingest processors, ILM, painless, `_reindex`, mapper-extras or analysis-common, so
anything the product sends must work without them. It also lacks the rest-root module, so
`GET /` answers 405: elasticsearch-py's `ping()` returns False and `info()` raises; check
readiness with `_cluster/health`. It has no bundled JDK (we pick a Java 21+ from the system)
and, like every distribution, refuses to run as root (we run it as an unprivileged system
user). Only some versions are published as integ-test-zip: 9.3.2 is;
9.3.0, 9.3.1, 9.3.3, 9.4.x and 9.5.x are not.

Layout on disk:
- `~/.cache/recall-fast/es/elasticsearch-<ver>.zip`: the download, fetched once with Maven.
- `/var/tmp/recall-fast/elasticsearch-<ver>/`: the unpacked distribution, shared and read-only.
  Not under /root: root's home is not traversable by the unprivileged user.
- `/var/tmp/recall-fast/run/es-*/`: one run dir per node (config, data, logs, tmp, pid file),
  owned by the unprivileged user, removed by `ElasticsearchNode.close()`.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Self

from tests.services.process import (
    AttachableService,
    ServiceStartError,
    free_tcp_port,
    http_get_json,
    pid_cmdline,
    tail_lines,
    terminate_pid,
    wait_until,
)

# The one place the server version is pinned. Pair it with elasticsearch-py 9.x (the client
# sends `compatible-with=9`). Check that a new version is published as integ-test-zip first.
ES_VERSION: Final = "9.3.2"
ES_ARTIFACT: Final = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"
MAVEN_DEPENDENCY_PLUGIN: Final = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
MIN_JAVA_MAJOR: Final = 21
JVM_ROOT: Final = Path("/usr/lib/jvm")
DEFAULT_WORK_ROOT: Final = Path("/var/tmp/recall-fast")
DEFAULT_ES_USER: Final = "recallfast"
# 512 MiB is plenty for test indices and leaves room for two nodes (a restart or 429 test
# beside the session node) on a small CI machine.
DEFAULT_HEAP_MB: Final = 512
# Measured: 20-40 s to yellow on a 2-core machine; the margin covers a loaded CI box.
DEFAULT_START_TIMEOUT_S: Final = 180.0
DEFAULT_STOP_TIMEOUT_S: Final = 60.0

SettingValue = str | int | float | bool

_LOG_TAIL_LINES: Final = 60
_CLUSTER_NAME: Final = "recall-fast-test"
_JAVA_VERSION_RE: Final = re.compile(r'version "(\d+)(?:\.(\d+))?')
# Marker in a node's command line, checked before signalling a pid read from disk.
_ES_CMDLINE_MARKER: Final = "org.elasticsearch"


def default_cache_dir() -> Path:
    """Return where downloaded distributions are kept (`~/.cache/recall-fast/es`).

    Returns:
        The cache directory (not created).
    """
    return Path.home() / ".cache" / "recall-fast" / "es"


def fetch_distribution(version: str = ES_VERSION, cache_dir: Path | None = None) -> Path:
    """Return the integ-test-zip for `version`, downloading it with Maven when missing.

    Maven's dependency plugin needs no pom and reuses ~/.m2, which CI caches anyway.

    Args:
        version: Elasticsearch version.
        cache_dir: Download directory; `default_cache_dir()` when None.

    Returns:
        Path of `elasticsearch-<version>.zip`.

    Raises:
        ServiceStartError: `mvn` is missing or the download failed (for instance an
            unpublished version); the message carries Maven's output.
    """
    cache = cache_dir or default_cache_dir()
    zip_path = cache / f"elasticsearch-{version}.zip"
    if zip_path.is_file():
        return zip_path
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServiceStartError(f"{zip_path} is missing and mvn is not installed to fetch it")
    cache.mkdir(parents=True, exist_ok=True)
    artifact = ES_ARTIFACT.format(version=version)
    command = [
        mvn,
        "-B",
        "-q",
        f"{MAVEN_DEPENDENCY_PLUGIN}:copy",
        f"-Dartifact={artifact}",
        f"-DoutputDirectory={cache}",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0 or not zip_path.is_file():
        raise ServiceStartError(
            f"mvn could not fetch {artifact} (exit {result.returncode}):\n"
            f"{result.stdout[-4000:]}{result.stderr[-4000:]}"
        )
    return zip_path


def unpack_distribution(zip_path: Path, version: str, work_root: Path) -> Path:
    """Unpack the distribution once under `work_root` and return its home.

    Unpacks into a private temp dir and renames it into place, so a concurrent session (or one
    killed mid-unzip) never sees a half-unpacked tree. `unzip` keeps the execute bits that
    Maven's own unpacker may drop.

    Args:
        zip_path: The integ-test-zip.
        version: Its version (names the top-level directory).
        work_root: Parent directory, traversable by the unprivileged user.

    Returns:
        The Elasticsearch home (`<work_root>/elasticsearch-<version>`).

    Raises:
        ServiceStartError: `unzip` is missing or failed.
    """
    home = work_root / f"elasticsearch-{version}"
    if (home / "bin" / "elasticsearch").is_file():
        return home
    unzip = shutil.which("unzip")
    if unzip is None:
        raise ServiceStartError("unzip is not installed; it is needed to unpack Elasticsearch")
    _make_shared_dir(work_root)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=work_root))
    try:
        result = subprocess.run(
            [unzip, "-q", str(zip_path), "-d", str(staging)],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise ServiceStartError(f"unzip {zip_path} failed: {result.stderr[-4000:]}")
        unpacked = staging / f"elasticsearch-{version}"
        # Shared read-only by every node: world-readable, directories traversable.
        subprocess.run(["chmod", "-R", "a+rX", str(unpacked)], check=True)
        with contextlib.suppress(OSError):
            # Loses the race harmlessly when another session renamed its copy first.
            unpacked.rename(home)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if not (home / "bin" / "elasticsearch").is_file():
        raise ServiceStartError(f"{zip_path} did not unpack to {home}")
    return home


def java_major_version(java_home: Path) -> int | None:
    """Return the major version of the JDK at `java_home`, or None if it does not run.

    Args:
        java_home: A JDK directory containing `bin/java`.

    Returns:
        The major version (8 for "1.8.0_x", 25 for "25.0.3"), or None.
    """
    java = java_home / "bin" / "java"
    if not java.is_file():
        return None
    try:
        result = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, check=False, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _JAVA_VERSION_RE.search(result.stderr + result.stdout)
    if match is None:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2) is not None:
        return int(match.group(2))
    return major


def find_java_home(override: Path | None = None, jvm_root: Path = JVM_ROOT) -> Path:
    """Pick the JDK Elasticsearch runs on: `override`, else the newest Java 21+ in `jvm_root`.

    Elasticsearch reads `ES_JAVA_HOME` only (never `JAVA_HOME`), and these machines default to
    Java 17, which ES 9 rejects; the newest JDK is preferred because ES is tested on it first.

    Args:
        override: An explicit JDK (the CLI and fixtures pass `RECALL_ES_JAVA_HOME`).
        jvm_root: Directory scanned for JDKs.

    Returns:
        The JDK directory (symlinks resolved).

    Raises:
        ServiceStartError: The override is not a Java 21+ JDK, or none was found.
    """
    if override is not None:
        major = java_major_version(override)
        if major is None or major < MIN_JAVA_MAJOR:
            raise ServiceStartError(
                f"RECALL_ES_JAVA_HOME={override} is not a Java {MIN_JAVA_MAJOR}+ JDK "
                f"(found major version {major})"
            )
        return override.resolve()
    candidates: dict[Path, int] = {}
    if jvm_root.is_dir():
        for entry in sorted(jvm_root.iterdir()):
            resolved = entry.resolve()
            if resolved in candidates:
                continue
            major = java_major_version(resolved)
            if major is not None and major >= MIN_JAVA_MAJOR:
                candidates[resolved] = major
    if not candidates:
        raise ServiceStartError(
            f"no Java {MIN_JAVA_MAJOR}+ JDK under {jvm_root}; install one or set "
            "RECALL_ES_JAVA_HOME"
        )
    return max(candidates, key=lambda path: (candidates[path], str(path)))


def ensure_system_user(name: str) -> None:
    """Create the unprivileged system user Elasticsearch runs as, if it does not exist.

    Elasticsearch refuses to start as root and no setting overrides that.

    Args:
        name: User name.

    Raises:
        ServiceStartError: `useradd` failed for a reason other than a concurrent creation.
    """
    with contextlib.suppress(KeyError):
        pwd.getpwnam(name)
        return
    result = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
        check=False,
    )
    # Exit 9: the name is taken, i.e. a parallel session created it between our check and now.
    if result.returncode not in (0, 9):
        raise ServiceStartError(f"useradd {name} failed: {result.stderr.strip()}")


def _make_shared_dir(path: Path) -> None:
    """Create a directory every local user can add to, like /tmp (mode 1777).

    Whoever runs first (root in CI, a developer's own user elsewhere) creates it; the sticky
    bit lets later users of either kind create their own run dirs without touching others'.
    """
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):
        path.chmod(0o1777)


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    """Give the run dir to the node's user: it writes data, logs, tmp and the pid file."""
    os.chown(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)


class ElasticsearchNode(AttachableService):
    """One single-node Elasticsearch cluster on 127.0.0.1, started from the integ-test-zip.

    `stop()` keeps the run dir so `start()` brings the same node back on the same data and
    port (tests that crash Elasticsearch mid-run rely on that); `close()` stops and deletes the
    run dir. As a context manager it starts on enter and closes on exit.

    A node made by `attach(url)` only knows the URL of a node someone else runs (for instance
    `scripts/services up`): `start()` and `stop()` refuse, `close()` does nothing.
    """

    service_name = "Elasticsearch node"

    def __init__(
        self,
        *,
        settings: Mapping[str, SettingValue] | None = None,
        version: str = ES_VERSION,
        heap_mb: int = DEFAULT_HEAP_MB,
        java_home: Path | None = None,
        user: str = DEFAULT_ES_USER,
        work_root: Path = DEFAULT_WORK_ROOT,
        cache_dir: Path | None = None,
        run_dir: Path | None = None,
        start_timeout_s: float = DEFAULT_START_TIMEOUT_S,
        stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S,
    ) -> None:
        """Describe a node; nothing happens until `start()`.

        Args:
            settings: Extra node settings written to elasticsearch.yml, overriding the
                defaults (e.g. `{"thread_pool.write.queue_size": 1}` to provoke 429s).
            version: Distribution version; keep the default unless testing an upgrade.
            heap_mb: JVM heap (-Xms and -Xmx).
            java_home: JDK to run on; `find_java_home()` picks one when None.
            user: Unprivileged user the node runs as when we are root.
            work_root: Parent of the unpacked distribution and of run dirs.
            cache_dir: Download cache; `default_cache_dir()` when None.
            run_dir: This node's own directory; a new temp dir under `work_root/run` when
                None. It is deleted by `close()`, so never pass a directory with other content.
            start_timeout_s: Limit for the start, health wait included.
            stop_timeout_s: Grace period after SIGTERM before SIGKILL.
        """
        self._settings: dict[str, SettingValue] = dict(settings or {})
        self._version = version
        self._heap_mb = heap_mb
        self._java_home = java_home
        self._user = user
        self._work_root = work_root
        self._cache_dir = cache_dir
        self._run_dir = run_dir
        self._start_timeout_s = start_timeout_s
        self._stop_timeout_s = stop_timeout_s
        super().__init__()

    @property
    def run_dir(self) -> Path | None:
        """The node's config/data/logs directory, once started (None for attached nodes)."""
        return self._run_dir if self.managed else None

    @property
    def log_path(self) -> Path | None:
        """The server's main log file, for diagnosing failures."""
        if self._run_dir is None or not self.managed:
            return None
        # log4j2.properties names the main log after the cluster.
        return self._run_dir / "logs" / f"{_CLUSTER_NAME}.log"

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """Return the end of the server log and of the launcher output.

        Args:
            lines: Lines kept from each file.

        Returns:
            Both tails, labelled.
        """
        if self._run_dir is None or self.log_path is None:
            return "<no run dir>"
        startup = self._run_dir / "logs" / "startup.out"
        return (
            f"--- {startup} ---\n{tail_lines(startup, lines)}\n"
            f"--- {self.log_path} ---\n{tail_lines(self.log_path, lines)}"
        )

    def start(self) -> None:
        """Start the node (or restart it on its existing data) and wait for yellow health.

        Idempotent while running. The launcher (`bin/elasticsearch -d`) returns once the node
        has started; the health wait then covers cluster state recovery after a restart.

        Raises:
            RuntimeError: The node is attached, not managed.
            ServiceStartError: Download, unpack, JDK lookup or start failed, or health did not
                reach yellow in time; the message ends with the log tails. The server process
                is stopped again before this is raised.
        """
        if not self.managed:
            raise RuntimeError(f"Elasticsearch at {self.url} is not managed by this process")
        if self.pid is not None:
            return
        deadline = time.monotonic() + self._start_timeout_s
        zip_path = fetch_distribution(self._version, self._cache_dir)
        es_home = unpack_distribution(zip_path, self._version, self._work_root)
        java_home = self._java_home or find_java_home()
        self._java_home = java_home
        as_root = os.geteuid() == 0
        if as_root:
            ensure_system_user(self._user)
        run_dir = self._prepare_run_dir(es_home)
        if as_root:
            entry = pwd.getpwnam(self._user)
            _chown_tree(run_dir, entry.pw_uid, entry.pw_gid)
        pid_file = run_dir / "es.pid"
        pid_file.unlink(missing_ok=True)  # left behind by a SIGKILL
        env_assignments = [
            f"ES_JAVA_HOME={java_home}",
            f"ES_PATH_CONF={run_dir / 'config'}",
            f"ES_JAVA_OPTS=-Xms{self._heap_mb}m -Xmx{self._heap_mb}m",
            f"ES_TMPDIR={run_dir / 'tmp'}",
        ]
        launch = [str(es_home / "bin" / "elasticsearch"), "-d", "-p", str(pid_file)]
        prefix = ["runuser", "-u", self._user, "--"] if as_root else []
        command = [*prefix, "env", *env_assignments, *launch]
        startup_log = run_dir / "logs" / "startup.out"
        try:
            with startup_log.open("ab") as out:
                result = subprocess.run(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=run_dir,
                    check=False,
                    timeout=max(deadline - time.monotonic(), 1.0),
                )
            self._pid = self._read_pid(pid_file)
            if result.returncode != 0:
                raise ServiceStartError(f"bin/elasticsearch -d exited {result.returncode}")
            wait_until(
                self.is_healthy,
                timeout_s=max(deadline - time.monotonic(), 1.0),
                still_starting=lambda: self.pid is not None,
                what=f"Elasticsearch {self._version} at {self.url}",
            )
        except (ServiceStartError, subprocess.TimeoutExpired) as error:
            self._pid = self._pid or self._read_pid(pid_file)
            tail = self.log_tail()
            self._kill_quietly()
            raise ServiceStartError(
                f"Elasticsearch {self._version} did not start in {run_dir}: {error}\n{tail}"
            ) from error

    def stop(self, *, force: bool = False) -> None:
        """Stop the server process and keep the run dir for a later `start()`.

        Args:
            force: SIGKILL at once, as a crash or OOM kill would; otherwise SIGTERM and
                SIGKILL only after the stop timeout.

        Raises:
            RuntimeError: The node is attached, not managed.
            TimeoutError: The process survived SIGKILL.
        """
        if not self.managed:
            raise RuntimeError(f"Elasticsearch at {self.url} is not managed by this process")
        pid = self.pid
        if pid is None and self._run_dir is not None:
            pid = self._read_pid(self._run_dir / "es.pid")
        if pid is not None and _ES_CMDLINE_MARKER in pid_cmdline(pid):
            terminate_pid(pid, timeout_s=self._stop_timeout_s, force=force)
        self._pid = None

    def close(self) -> None:
        """Stop the node and delete its run dir; nothing for an attached node.

        Raises:
            TimeoutError: The process survived SIGKILL.
        """
        if not self.managed:
            return
        try:
            self.stop()
        finally:
            if self._run_dir is not None:
                # Cleanup must not mask the test failure that led here; a leftover run dir
                # under /var/tmp is harmless.
                shutil.rmtree(self._run_dir, ignore_errors=True)

    def to_state(self) -> dict[str, object]:
        """Describe a started node as JSON-ready data, for `scripts/services down` later.

        Returns:
            Everything `from_state` needs.

        Raises:
            RuntimeError: The node is attached or was never started.
        """
        if not self.managed or self._run_dir is None or self._port is None:
            raise RuntimeError("only a started, managed node has state")
        return {
            "url": self.url,
            "version": self._version,
            "run_dir": str(self._run_dir),
            "http_port": self._port,
            "pid": self._pid,
            "user": self._user,
            "heap_mb": self._heap_mb,
            "java_home": str(self._java_home) if self._java_home else None,
            "settings": self._settings,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, object]) -> Self:
        """Rebuild a managed node from `to_state()` output written by another process.

        Args:
            state: Parsed state.

        Returns:
            A node that can `stop()`, `start()` and `close()` the described server.

        Raises:
            ValueError: The state lacks a field or has the wrong types.
        """
        try:
            run_dir = Path(str(state["run_dir"]))
            http_port = int(str(state["http_port"]))
            raw_settings = state.get("settings") or {}
            if not isinstance(raw_settings, dict):
                raise ValueError("settings must be an object")
            java_home = state.get("java_home")
            node = cls(
                settings={str(key): value for key, value in raw_settings.items()},
                version=str(state["version"]),
                heap_mb=int(str(state["heap_mb"])),
                java_home=Path(str(java_home)) if java_home else None,
                user=str(state["user"]),
                run_dir=run_dir,
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"bad Elasticsearch state: {error}") from error
        node._port = http_port
        pid = state.get("pid")
        node._pid = int(str(pid)) if pid is not None else node._read_pid(run_dir / "es.pid")
        return node

    def _prepare_run_dir(self, es_home: Path) -> Path:
        """Create the run dir on first start (config copy, yml, port); reuse it afterwards."""
        if self._run_dir is None:
            runs = self._work_root / "run"
            _make_shared_dir(self._work_root)
            _make_shared_dir(runs)
            self._run_dir = Path(tempfile.mkdtemp(prefix="es-", dir=runs))
        run_dir = self._run_dir
        run_dir.mkdir(parents=True, exist_ok=True)
        # mkdtemp makes it 0700; the launcher resolves paths through it as the node user.
        run_dir.chmod(0o755)
        config_dir = run_dir / "config"
        if not config_dir.is_dir():
            shutil.copytree(es_home / "config", config_dir)
        for sub in ("data", "logs", "tmp"):
            (run_dir / sub).mkdir(exist_ok=True)
        if self._port is None:
            self._port = free_tcp_port()
        settings: dict[str, SettingValue] = {
            "cluster.name": _CLUSTER_NAME,
            "node.name": "recall-fast-0",
            "discovery.type": "single-node",
            "network.host": "127.0.0.1",
            "http.port": self._port,
            "transport.port": 0,
            "path.data": str(run_dir / "data"),
            "path.logs": str(run_dir / "logs"),
            "xpack.security.enabled": False,
            # Free disk varies between machines; watermarks would block writes at random.
            "cluster.routing.allocation.disk.threshold_enabled": False,
            "action.destructive_requires_name": False,
        }
        settings.update(self._settings)
        # JSON scalars are valid YAML, so no YAML library is needed; dotted keys are flat.
        lines = [f"{key}: {json.dumps(value)}" for key, value in settings.items()]
        (config_dir / "elasticsearch.yml").write_text("\n".join(lines) + "\n")
        return run_dir

    def _read_pid(self, pid_file: Path) -> int | None:
        """Read the pid file the launcher writes, or None if it is absent or not yet written."""
        try:
            text = pid_file.read_text().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def is_healthy(self) -> bool:
        """Probe the cluster once.

        Returns:
            True when the node answers and its cluster health is yellow or green.
        """
        try:
            status, body = http_get_json(
                f"{self.url}/_cluster/health?wait_for_status=yellow&timeout=2s", timeout_s=10.0
            )
        except OSError:
            return False
        return (
            status == 200 and isinstance(body, dict) and body.get("status") in {"yellow", "green"}
        )

    def _kill_quietly(self) -> None:
        """Kill a half-started server before reporting its start failure."""
        pid = self._pid
        self._pid = None
        if pid is not None and _ES_CMDLINE_MARKER in pid_cmdline(pid):
            with contextlib.suppress(TimeoutError):
                terminate_pid(pid, timeout_s=10.0, force=True)
