"""moto in server mode: local S3, SQS and CloudWatch for tests and local development.

Stage: test harness only. Standard library only; moto itself runs in a child interpreter.

Why a subprocess and not `ThreadedMotoServer`: a separate process is a real HTTP endpoint
with its own GIL, so client timings and concurrency look like a remote service, and a test
can kill it to simulate an outage. Why not mocks: the product's S3 streaming, SQS visibility
and redrive paths must meet real HTTP semantics (ranged GETs, long polling, receive counts).

Gotchas (measured): its SQS slows as a queue fills (~1 s per receive at 2,000 messages), so
keep queues shallow and never benchmark on it. All tests share one account (123456789012):
use unique bucket and queue names, or `reset()` between tests that need a clean slate.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import urllib.request
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

AWS_ACCESS_KEY_ID: Final = "testing"
AWS_SECRET_ACCESS_KEY: Final = "testing"
AWS_REGION: Final = "us-east-1"
DEFAULT_START_TIMEOUT_S: Final = 30.0
DEFAULT_STOP_TIMEOUT_S: Final = 10.0

_CMDLINE_MARKER: Final = "moto"


class MotoServer(AttachableService):
    """A `moto.server` child process on 127.0.0.1.

    `stop()` then `start()` brings it back on the same port (state is lost: moto keeps it in
    memory). As a context manager it starts on enter and stops on exit. A server made by
    `attach(url)` only knows the URL of one someone else runs (`RECALL_AWS_ENDPOINT_URL`).
    """

    service_name = "moto server"

    def __init__(
        self,
        *,
        port: int | None = None,
        python: str = sys.executable,
        log_path: Path | None = None,
        start_timeout_s: float = DEFAULT_START_TIMEOUT_S,
        stop_timeout_s: float = DEFAULT_STOP_TIMEOUT_S,
    ) -> None:
        """Describe a server; nothing happens until `start()`.

        Args:
            port: Port to bind; a free one is picked on first start when None.
            python: Interpreter with moto[server] installed (this one by default).
            log_path: File for moto's output; a temp file, removed by `stop()`, when None.
            start_timeout_s: Limit for the process to answer HTTP.
            stop_timeout_s: Grace period after SIGTERM before SIGKILL.
        """
        super().__init__(port)
        self._python = python
        self._log_path = log_path
        self._owns_log = log_path is None
        self._start_timeout_s = start_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        """Environment that points AWS SDKs (botocore honours AWS_ENDPOINT_URL) at moto.

        Returns:
            AWS_ENDPOINT_URL, dummy credentials and the region.
        """
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": AWS_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": AWS_SECRET_ACCESS_KEY,
            "AWS_DEFAULT_REGION": AWS_REGION,
        }

    def start(self) -> None:
        """Start the server and wait until it answers HTTP. Idempotent while running.

        Raises:
            RuntimeError: The server is attached, not managed.
            ServiceStartError: It exited or did not answer in time; the message carries the
                end of its output. The process is killed before this is raised.
        """
        if not self.managed:
            raise RuntimeError(f"moto at {self.url} is not managed by this process")
        if self.pid is not None:
            return
        if self._port is None:
            self._port = free_tcp_port()
        if self._log_path is None:
            handle, name = tempfile.mkstemp(prefix="moto-", suffix=".log")
            os.close(handle)
            self._log_path = Path(name)
        command = [self._python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self._port)]
        with self._log_path.open("ab") as out:
            # Own session: survives the shell that ran `scripts/services up`, and a Ctrl-C
            # aimed at pytest reaches the fixtures' finalizers, which stop it in order.
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._pid = self._process.pid
        try:
            wait_until(
                self.is_ready,
                timeout_s=self._start_timeout_s,
                still_starting=lambda: self.pid is not None,
                what=f"moto at {self.url}",
            )
        except ServiceStartError as error:
            tail = tail_lines(self._log_path, 40)
            self._terminate(force=True)
            raise ServiceStartError(f"{error}\n--- {self._log_path} ---\n{tail}") from error

    def stop(self, *, force: bool = False) -> None:
        """Stop the server; its in-memory state is gone.

        Args:
            force: SIGKILL at once instead of SIGTERM first.

        Raises:
            RuntimeError: The server is attached, not managed.
            TimeoutError: The process survived SIGKILL.
        """
        if not self.managed:
            raise RuntimeError(f"moto at {self.url} is not managed by this process")
        self._terminate(force=force)
        if self._owns_log and self._log_path is not None:
            self._log_path.unlink(missing_ok=True)
            self._log_path = None

    def close(self) -> None:
        """Stop the server if managed; nothing for an attached one.

        Raises:
            TimeoutError: The process survived SIGKILL.
        """
        if self.managed:
            self.stop()

    def reset(self) -> None:
        """Drop every bucket, queue and metric (moto's reset API), for a clean slate.

        Raises:
            OSError: The server did not answer.
        """
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10.0) as response:
            response.read()

    def to_state(self) -> dict[str, object]:
        """Describe a started server as JSON-ready data, for `scripts/services down` later.

        Returns:
            Everything `from_state` needs.

        Raises:
            RuntimeError: The server is attached or was never started.
        """
        if not self.managed or self._port is None:
            raise RuntimeError("only a started, managed server has state")
        return {
            "url": self.url,
            "port": self._port,
            "pid": self._pid,
            "python": self._python,
            "log_path": str(self._log_path) if self._log_path else None,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, object]) -> Self:
        """Rebuild a managed server from `to_state()` output written by another process.

        Args:
            state: Parsed state.

        Returns:
            A server that can `stop()` and `start()` the described process.

        Raises:
            ValueError: The state lacks a field or has the wrong types.
        """
        try:
            log_path = state.get("log_path")
            server = cls(
                port=int(str(state["port"])),
                python=str(state["python"]),
                log_path=Path(str(log_path)) if log_path else None,
            )
            pid = state.get("pid")
            server._pid = int(str(pid)) if pid is not None else None
        except (KeyError, TypeError) as error:
            raise ValueError(f"bad moto state: {error}") from error
        return server

    def is_ready(self) -> bool:
        """Probe the server once.

        Returns:
            True when moto's own API answers (any status below 500).
        """
        try:
            status, _body = http_get_json(f"{self.url}/moto-api/data.json", timeout_s=5.0)
        except OSError:
            return False
        return status < 500

    def _terminate(self, *, force: bool) -> None:
        """Stop our child (reaped via Popen) or a pid from a state file (checked first)."""
        if self._process is not None:
            process, self._process = self._process, None
            if process.poll() is None:
                if force:
                    process.kill()
                else:
                    process.terminate()
                try:
                    process.wait(timeout=self._stop_timeout_s)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=30.0)
        elif self._pid is not None and _CMDLINE_MARKER in pid_cmdline(self._pid):
            terminate_pid(self._pid, timeout_s=self._stop_timeout_s, force=force)
        self._pid = None
