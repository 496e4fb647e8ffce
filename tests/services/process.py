"""Process and port plumbing shared by the Elasticsearch and moto harnesses.

Stage: test harness only. Standard library only: the services CLI (`python -m tests.services`)
imports this without pytest or any client library installed.

Why pids and /proc instead of `subprocess.Popen` handles: Elasticsearch daemonises itself (`-d`)
and `scripts/services down` runs in a different process from `up`, so the harness usually
stops processes that are not its children. Containers often run a PID 1 that never reaps
orphans, so a killed daemon can linger as a zombie: a zombie counts as exited here.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

# Poll interval while waiting for a process to exit or a port to answer: short enough that a
# stop does not add noticeable latency, long enough not to burn the 2 cores the node needs.
_POLL_INTERVAL_S = 0.1


class Service:
    """Context-manager lifecycle shared by every harnessed server and proxy.

    ``with`` starts it and closes it at the end whether or not the block raised; a start that
    fails is closed before the error propagates, so temp dirs and half-started processes never
    outlive a failed fixture.
    """

    def start(self) -> None:
        """Start the service and return once it answers."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop the service and remove what it owns; safe to call twice."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AttachableService(Service):
    """A local server that this harness either starts itself or attaches to by URL.

    Attached servers (``RECALL_ES_URL``, ``scripts/services up`` from another process) belong to
    someone else: their lifecycle methods refuse or do nothing.
    """

    #: Name used in error messages.
    service_name = "service"

    def __init__(self, port: int | None = None) -> None:
        self._port = port
        self._pid: int | None = None
        self._external_url: str | None = None

    @classmethod
    def attach(cls, url: str) -> Self:
        """Wrap a server that something else started and stops.

        Args:
            url: Its base URL.

        Returns:
            A server whose `url` is `url` and whose lifecycle methods refuse or do nothing.
        """
        server = cls()
        server._external_url = url.rstrip("/")
        return server

    @property
    def managed(self) -> bool:
        """True when this object starts and stops the server (False after `attach`)."""
        return self._external_url is None

    @property
    def url(self) -> str:
        """Base URL, e.g. `http://127.0.0.1:40123`; stable across stop and start.

        Raises:
            RuntimeError: The server was never started.
        """
        if self._external_url is not None:
            return self._external_url
        if self._port is None:
            raise RuntimeError(f"{self.service_name} not started yet")
        return f"http://127.0.0.1:{self._port}"

    @property
    def pid(self) -> int | None:
        """Pid of the running server process, or None when stopped or attached."""
        if self._pid is not None and pid_alive(self._pid):
            return self._pid
        return None

    def to_state(self) -> dict[str, object]:
        """Describe the started server as JSON-ready data, for `scripts/services down` later."""
        raise NotImplementedError


class ServiceStartError(RuntimeError):
    """A local service did not come up; the message carries its log tail.

    A `RuntimeError` because it is an environment failure, not a bug in the caller's input.
    """


def free_tcp_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on `host` that is free right now.

    The kernel picks it (bind to port 0), so parallel test sessions do not collide on a fixed
    port. There is a small window before the service binds it; the service then fails loudly.

    Args:
        host: Interface to probe; the services bind loopback only.

    Returns:
        A port number.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def pid_alive(pid: int) -> bool:
    """Tell whether `pid` is a live, non-zombie process.

    Reaps the process first when it is our child, so a terminated `Popen` child does not stay
    a zombie; a zombie (ours or an unreaped orphan) counts as dead.

    Args:
        pid: Process id.

    Returns:
        True while the process runs.
    """
    with contextlib.suppress(ChildProcessError):
        reaped, _status = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        # No /proc (not Linux): fall back to signal 0, which cannot see zombies.
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    # Field 3 is the state; field 2 (comm) is in parentheses and may contain spaces.
    state = stat.rsplit(")", 1)[-1].split()[0]
    return state not in {"Z", "X"}


def pid_cmdline(pid: int) -> str:
    """Return the command line of `pid` joined by spaces, or "" if it cannot be read.

    Used before killing a pid read from a state file, so a pid reused after a reboot never
    gets a signal meant for Elasticsearch or moto.

    Args:
        pid: Process id.

    Returns:
        The command line, or an empty string.
    """
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()


def wait_pid_exit(pid: int, timeout_s: float) -> bool:
    """Wait until `pid` has exited.

    Args:
        pid: Process id.
        timeout_s: How long to wait.

    Returns:
        True if the process exited within the timeout.
    """
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_INTERVAL_S)
    return True


def terminate_pid(pid: int, *, timeout_s: float, force: bool = False) -> None:
    """Stop `pid`: SIGTERM, then SIGKILL once `timeout_s` has passed.

    Args:
        pid: Process id.
        timeout_s: Grace period after SIGTERM.
        force: Send SIGKILL at once, as a crash would (tests use it to simulate one).

    Raises:
        TimeoutError: The process survived SIGKILL for 30 s (stuck in the kernel).
    """
    if not pid_alive(pid):
        return
    first = signal.SIGKILL if force else signal.SIGTERM
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, first)
    if wait_pid_exit(pid, 0.0 if force else timeout_s):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    if not wait_pid_exit(pid, 30.0):
        raise TimeoutError(f"process {pid} still alive 30 s after SIGKILL")


def http_get_json(url: str, timeout_s: float) -> tuple[int, object]:
    """GET `url` and decode a JSON body, returning error statuses instead of raising.

    Args:
        url: Absolute URL.
        timeout_s: Socket timeout.

    Returns:
        (HTTP status, decoded body or None when the body is not JSON).

    Raises:
        OSError: The connection failed (refused, reset, timed out).
    """
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            status: int = response.status
            body = response.read()
    except urllib.error.HTTPError as error:
        status = error.code
        body = error.read()
    try:
        decoded: object = json.loads(body) if body else None
    except ValueError:
        decoded = None
    return status, decoded


def wait_until(
    probe: Callable[[], bool],
    *,
    timeout_s: float,
    still_starting: Callable[[], bool],
    what: str,
) -> None:
    """Poll `probe` until it returns True.

    Args:
        probe: Returns True once the service is ready; OSError counts as not ready.
        timeout_s: Give up after this long.
        still_starting: Returns False once waiting is pointless (the process died).
        what: Service name for the error message.

    Raises:
        ServiceStartError: The timeout passed or `still_starting` returned False.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(OSError):
            if probe():
                return
        if not still_starting():
            raise ServiceStartError(f"{what} exited while starting")
        if time.monotonic() >= deadline:
            raise ServiceStartError(f"{what} not ready after {timeout_s:.0f} s")
        time.sleep(_POLL_INTERVAL_S * 2)


def tail_lines(path: Path, lines: int) -> str:
    """Return the last `lines` lines of a text file, or a note when it does not exist.

    Args:
        path: Log file.
        lines: How many lines to keep.

    Returns:
        The tail, for error messages.
    """
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        return f"<no {path}: {error.strerror}>"
    return "\n".join(text.splitlines()[-lines:])
