"""Transport security to Elasticsearch: HTTPS, CA bundle, mutual TLS, explicit opt-out.

The shared node speaks plain HTTP; `es_tls_proxy` (nginx, tests/services/tls_proxy.py) puts
HTTPS with mandatory client certificates in front of it. The CLI runs as a subprocess, the way
an operator runs it; the worker runs in-process against moto SQS.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from recall_fast import _native
from tests.integration.conftest import REPO, Stack, WorkerTask
from tests.services.tls_proxy import TlsProxy

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def one_file(tmp_path_factory) -> tuple[Path, int]:
    """One small generated conn log (gzip TSV) and its record count."""
    root = tmp_path_factory.mktemp("tls-input")
    summary = _native.generate(
        str(root), tenants=["t"], sensors=1, minutes=1, log_types=["conn"],
        records_per_minute={"conn": 50},
    )  # fmt: skip
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len(files) == 1
    return files[0], int(summary["records"])


def ingest(path: Path, url: str, tenant: str, *flags: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "python") + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [
            sys.executable, "-m", "recall_fast", "ingest", str(path), "--to", url,
            "--tenant", tenant, "--no-progress",
            "--es-request-retry-budget-s", "1", "--es-retry-base-s", "0.1",
            "--es-retry-cap-s", "0.2", *flags,
        ],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def count(es_client: Elasticsearch, tenant: str) -> int:
    es_client.indices.refresh(index=f"recall-{tenant}-*", allow_no_indices=True)
    return int(es_client.count(index=f"recall-{tenant}-*", allow_no_indices=True)["count"])


@pytest.fixture
def tenant(es_client: Elasticsearch):
    name = f"tls{uuid.uuid4().hex[:8]}"
    yield name
    es_client.indices.delete(index=f"recall-{name}-*", ignore_unavailable=True)


def client_flags(proxy: TlsProxy, *, ca: bool = True, intruder: bool = False) -> list[str]:
    pair = proxy.pki.other_client if intruder else proxy.pki.client
    flags = ["--es-client-cert", str(pair.cert), "--es-client-key", str(pair.key)]
    return [*flags, "--es-ca-certs", str(proxy.pki.ca_cert)] if ca else flags


def test_mutual_tls_with_the_right_client_certificate_indexes(
    es_tls_proxy, es_client, one_file, tenant
):
    path, records = one_file
    done = ingest(path, es_tls_proxy.url, tenant, *client_flags(es_tls_proxy))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["documents_indexed"] == records
    assert count(es_client, tenant) == records
    assert "verification is OFF" not in done.stderr


@pytest.mark.parametrize(
    "case", ["no_client_cert", "client_cert_of_another_ca", "server_ca_not_trusted"]
)
def test_refused_connections_index_nothing(es_tls_proxy, es_client, one_file, tenant, case):
    path, _ = one_file
    if case == "no_client_cert":
        flags = ["--es-ca-certs", str(es_tls_proxy.pki.ca_cert)]
    elif case == "client_cert_of_another_ca":
        flags = client_flags(es_tls_proxy, intruder=True)
    else:
        # Verification is on by default: without our CA the server certificate is refused.
        flags = client_flags(es_tls_proxy, ca=False)
    done = ingest(path, es_tls_proxy.url, tenant, *flags)
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert summary["documents_indexed"] == 0
    assert summary["failures"]
    assert count(es_client, tenant) == 0


def test_insecure_needs_the_explicit_flag_and_warns(es_tls_proxy, es_client, one_file, tenant):
    path, records = one_file
    done = ingest(path, es_tls_proxy.url, tenant, *client_flags(es_tls_proxy, ca=False),
                  "--es-insecure")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["documents_indexed"] == records
    warnings = [json.loads(line) for line in done.stderr.splitlines() if "verification" in line]
    assert warnings and warnings[0]["level"] == "warning"
    assert count(es_client, tenant) == records


async def test_worker_keeps_the_message_while_tls_is_refused(stack: Stack, es_tls_proxy):
    stack.generate(minutes=1, log_types=["conn"], sensors=1, records_per_minute={"conn": 40})
    keys = await stack.upload_all()
    assert len(keys) == 2
    pki = es_tls_proxy.pki
    tls = {"urls": es_tls_proxy.url, "ca_certs": str(pki.ca_cert)}
    refused = stack.config(
        elasticsearch={
            **tls,
            "client_cert": str(pki.other_client.cert),
            "client_key": str(pki.other_client.key),
            "request_retry_budget_s": 0.5,
        },
        # Short delays, many of them: a refused object goes back to the queue, not away.
        queue={"retry_delays_s": ",".join(["2"] * 20), "visibility_timeout_s": 10},
    )
    async with WorkerTask(refused) as worker:
        async with asyncio.timeout(60):
            while worker.metrics.objects.total() < len(keys):  # noqa: ASYNC110 - metric poll
                await asyncio.sleep(0.2)
    assert worker.metrics.documents_indexed.total() == 0
    assert worker.metrics.messages.value(action="deleted") == 0
    visible, in_flight = await stack.queue_depth()
    assert visible + in_flight == len(keys)  # one notification per object, all still queued
    assert await stack.dlq_messages(1, timeout_s=2) == []
    assert stack.counts() == dict.fromkeys(stack.tenants, 0)

    # The same messages, the right certificate: everything arrives, nothing was lost.
    accepted = stack.config(
        elasticsearch={
            **tls,
            "client_cert": str(pki.client.cert),
            "client_key": str(pki.client.key),
        }
    )
    async with WorkerTask(accepted):
        assert await stack.wait_counts(stack.expected, timeout_s=90) == stack.expected
        assert await stack.wait_queue_empty() == (0, 0)
