"""Secrets never leak: logs, summaries, metrics, dead letters, DLQ messages, error messages.

Each test runs the real CLI as a process with credentials set (API key, basic auth, an AWS
secret), provokes every kind of failure it can (mapping rejections, a corrupt object, a server
that refuses the credentials and echoes them back in its error body), captures everything the
process wrote or left behind, and searches it for each secret and its encoded forms.
"""

from __future__ import annotations

import asyncio
import base64
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from recall_fast import _native
from tests.integration.conftest import REPO, Stack, start_worker
from tests.services.process import free_tcp_port

pytestmark = pytest.mark.integration


def forms(secret: str) -> list[str]:
    """The secret and the encodings it could travel in (base64 of itself)."""
    return [secret, base64.b64encode(secret.encode()).decode()]


def assert_clean(texts: dict[str, str], secrets: list[str]) -> None:
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"secret found in {where}"


class _EchoHandler(http.server.BaseHTTPRequestHandler):
    """Refuses every request with 401 and echoes the credentials back (a hostile server)."""

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps(
            {
                "error": {
                    "type": "security_exception",
                    "reason": f"bad credentials {self.headers.get('authorization')}",
                    "path": self.path,
                },
                "status": 401,
            }
        ).encode()
        self.send_response(401)
        self.send_header("content-type", "application/json")
        self.send_header("x-elastic-product", "Elasticsearch")
        self.send_header("www-authenticate", str(self.headers.get("authorization")))
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_HEAD = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what the client wrote, not the server."""


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_tcp_port()), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "python") + os.pathsep + env.get("PYTHONPATH", "")
    env["RECALL_FAST_OBSERVABILITY__LOG_LEVEL"] = "DEBUG"
    env.update(extra)
    return env


def ingest(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recall_fast", "ingest", *argv, "--no-progress"],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def everything_under(root: Path) -> dict[str, str]:
    return {
        str(p): p.read_bytes().decode("utf-8", errors="replace")
        for p in root.rglob("*")
        if p.is_file()
    }


def test_ingest_with_basic_auth_leaks_nothing(tmp_path, echo_server):
    user, password = "recall-writer", f"pw-{uuid.uuid4().hex}"
    aws_secret = f"AwsSecret{uuid.uuid4().hex}"
    _native.generate(str(tmp_path / "in"), tenants=["acme"], sensors=1, minutes=1,
                     log_types=["conn"], records_per_minute={"conn": 20})  # fmt: skip
    env = cli_env(
        RECALL_FAST_ELASTICSEARCH__USERNAME=user,
        RECALL_FAST_ELASTICSEARCH__PASSWORD=password,
        AWS_ACCESS_KEY_ID="AKIDRECALLTEST",
        AWS_SECRET_ACCESS_KEY=aws_secret,
    )
    secrets = [*forms(password), *forms(f"{user}:{password}"), *forms(aws_secret)]
    refused = ingest(
        str(tmp_path / "in"), "--to", echo_server, "--es-request-retry-budget-s", "1",
        "--dead-letter-target", str(tmp_path / "dl"), env=env,
    )  # fmt: skip
    assert refused.returncode == 1, refused.stderr
    assert json.loads(refused.stdout)["failures"]
    # Credentials in the URL are refused outright, without echoing the URL.
    in_url = ingest(str(tmp_path / "in"), "--to", f"http://{user}:{password}@127.0.0.1:9", env=env)
    assert in_url.returncode == 2
    assert "must not carry credentials" in in_url.stderr
    assert_clean(
        {
            "stdout": refused.stdout,
            "stderr": refused.stderr,
            "url stdout": in_url.stdout,
            "url stderr": in_url.stderr,
            **everything_under(tmp_path / "dl"),
        },
        secrets,
    )


async def test_worker_with_api_key_leaks_nothing(stack: Stack, worker_env, echo_server):
    api_key = base64.b64encode(f"keyid:{uuid.uuid4().hex}".encode()).decode()
    aws_secret = f"AwsSecret{uuid.uuid4().hex}"
    good, hostile = stack.tenants
    stack.generate(minutes=1, log_types=["conn"], sensors=1, records_per_minute={"conn": 30})
    # Rejections for `good` (ports above 127 overflow a byte): dead-letter records are written.
    stack.es.indices.create(
        index=f"recall-{good}-zeek.conn-2024.05.01",
        settings={"number_of_replicas": 0},
        mappings={"properties": {"destination": {"properties": {"port": {"type": "byte"}}}}},
    )
    await stack.upload_all()
    # A corrupt object: dead-lettered to the SQS DLQ with its reason.
    await stack.s3.put_object(
        Bucket=stack.bucket, Key=f"{good}/sensor-01/conn/2024/05/01/bad.log.gz",
        Body=b"\x1f\x8b\x08\x00" + os.urandom(2000),
    )  # fmt: skip
    metrics_port = free_tcp_port()
    env = dict(
        worker_env,
        RECALL_FAST_ELASTICSEARCH__API_KEY=api_key,
        RECALL_FAST_ELASTICSEARCH__TENANT_URLS=json.dumps({hostile: [echo_server]}),
        RECALL_FAST_ELASTICSEARCH__REQUEST_RETRY_BUDGET_S="1",
        RECALL_FAST_QUEUE__RETRY_DELAYS_S="1,1",
        RECALL_FAST_OBSERVABILITY__LOG_LEVEL="DEBUG",
        AWS_ACCESS_KEY_ID="AKIDRECALLTEST",
        AWS_SECRET_ACCESS_KEY=aws_secret,
    )
    log = stack.work / "worker.log"
    process = start_worker(env, "--metrics-port", str(metrics_port), log=log)
    try:
        deadline = time.monotonic() + 120
        while await stack.queue_depth() != (0, 0) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.5)
        assert await stack.queue_depth() == (0, 0), log.read_text()[-3000:]
        url = f"http://127.0.0.1:{metrics_port}/metrics"
        metrics = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=10).read())
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.to_thread(process.wait, 60)
    dlq = await stack.dlq_messages(3, timeout_s=10)
    assert len(dlq) >= 2  # the corrupt object and the hostile tenant's objects
    captured = {
        "worker output": log.read_text(errors="replace"),
        "metrics": metrics.decode(),
        "dlq": json.dumps(dlq, default=str),
        **everything_under(stack.work / "dead-letter"),
    }
    assert any("dead-letter" in name for name in captured)  # rejections were written
    assert_clean(captured, [*forms(api_key), *forms(aws_secret)])
