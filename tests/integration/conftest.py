"""Shared harness for the end-to-end tests on real services (Elasticsearch node, moto).

A `Stack` is one isolated deployment: its own bucket (S3 -> SQS notifications), queue, dead-
letter queue, tenants with unique names (so indices never collide across tests on the shared
node) and a worker configuration pointing at all of it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from recall_fast import _native
from recall_fast.config import Config, load
from recall_fast.metrics import Metrics
from recall_fast.orchestration.worker import serve
from tests.services.fixtures import route_bucket_to_queue

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    """One test deployment."""

    s3: object
    sqs: object
    es: Elasticsearch
    es_url: str
    aws_url: str
    bucket: str
    queue_url: str
    dlq_url: str
    tenants: tuple[str, str]
    work: Path
    expected: dict[str, int] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)

    def use_node(self, url: str) -> None:
        """Point the stack (and its worker configs) at a dedicated node."""
        self.es.close()
        self.es_url = url
        self.es = Elasticsearch(url, request_timeout=60)

    def config(self, **sections: dict[str, object]) -> Config:
        """Worker configuration for this stack; ``sections`` override per section."""
        base: dict[str, dict[str, object]] = {
            "elasticsearch": {
                "urls": self.es_url,
                "request_retry_budget_s": 2.0,
                "retry_base_s": 0.2,
                "retry_cap_s": 1.0,
                "max_chunk_docs": 200,
            },
            "queue": {
                "queue_url": self.queue_url,
                "dead_letter_queue_url": self.dlq_url,
                "wait_time_s": 1,
                "visibility_timeout_s": 10,
                "retry_delays_s": "1,1,1,1,1,1,1,1",
                "shutdown_deadline_s": 5,
                "max_messages_in_flight": 6,
            },
            "s3": {"endpoint_url": self.aws_url, "region": "us-east-1", "request_timeout_s": 15},
            "dead_letter": {"target": str(self.work / "dead-letter")},
            "decode": {"threads": 2},
        }
        for name, values in sections.items():
            base.setdefault(name, {}).update(values)
        return load(overrides=base)

    def generate(self, **kwargs: object) -> dict[str, object]:
        """Generate logs for both tenants under work/input and remember the expected counts."""
        out = self.work / "input"
        summary: dict[str, object] = {}
        for tenant in self.tenants:
            before = sum(1 for _ in out.rglob("*")) if out.exists() else 0
            summary = _native.generate(str(out), tenants=[tenant], **kwargs)
            self.expected[tenant] = self.expected.get(tenant, 0) + int(summary["records"])
            assert sum(1 for _ in out.rglob("*")) > before
        return summary

    async def upload_all(self) -> list[str]:
        """Upload every generated file (notifications go to the queue)."""
        root = self.work / "input"
        keys = []
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            key = path.relative_to(root).as_posix()
            if key in self.keys:
                continue
            await self.s3.put_object(Bucket=self.bucket, Key=key, Body=path.read_bytes())
            keys.append(key)
        self.keys.extend(keys)
        return keys

    def counts(self) -> dict[str, int]:
        """Documents per tenant in Elasticsearch (after a refresh)."""
        self.es.indices.refresh(index="recall-*", ignore_unavailable=True, allow_no_indices=True)
        out = {}
        for tenant in self.tenants:
            out[tenant] = self.es.count(index=f"recall-{tenant}-*", allow_no_indices=True)["count"]
        return out

    async def wait_counts(
        self, expected: dict[str, int], timeout_s: float = 120.0
    ) -> dict[str, int]:
        deadline = time.monotonic() + timeout_s
        while True:
            counts = await asyncio.to_thread(self.counts)
            if counts == expected or time.monotonic() > deadline:
                return counts
            await asyncio.sleep(1.0)

    async def queue_depth(self, url: str | None = None) -> tuple[int, int]:
        attrs = await self.sqs.get_queue_attributes(
            QueueUrl=url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )
        a = attrs["Attributes"]
        return int(a["ApproximateNumberOfMessages"]), int(
            a["ApproximateNumberOfMessagesNotVisible"]
        )

    async def wait_queue_empty(self, timeout_s: float = 60.0) -> tuple[int, int]:
        deadline = time.monotonic() + timeout_s
        while True:
            depth = await self.queue_depth()
            if depth == (0, 0) or time.monotonic() > deadline:
                return depth
            await asyncio.sleep(0.5)

    async def dlq_messages(self, n: int, timeout_s: float = 30.0) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        deadline = time.monotonic() + timeout_s
        while len(out) < n and time.monotonic() < deadline:
            got = await self.sqs.receive_message(
                QueueUrl=self.dlq_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=1,
                MessageAttributeNames=["All"],
                VisibilityTimeout=60,
            )
            out.extend(got.get("Messages", []))
        return out

    def cross_tenant_documents(self) -> int:
        """Documents in one tenant's indices that belong to another tenant."""
        wrong = 0
        for tenant in self.tenants:
            query = {"bool": {"must_not": [{"term": {"organization.id": tenant}}]}}
            wrong += self.es.count(index=f"recall-{tenant}-*", query=query, allow_no_indices=True)[
                "count"
            ]
        return wrong


@pytest.fixture
async def stack(aws_session, moto_server, es_node, tmp_path, monkeypatch) -> AsyncIterator[Stack]:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for key, value in moto_server.env().items():
        monkeypatch.setenv(key, value)
    suffix = uuid.uuid4().hex[:8]
    async with (
        aws_session.create_client("s3", endpoint_url=moto_server.url) as s3,
        aws_session.create_client("sqs", endpoint_url=moto_server.url) as sqs,
    ):
        bucket = f"logs-{suffix}"
        await s3.create_bucket(Bucket=bucket)
        dlq = (await sqs.create_queue(QueueName=f"recall-{suffix}-dlq"))["QueueUrl"]
        queue = (await sqs.create_queue(QueueName=f"recall-{suffix}"))["QueueUrl"]
        await route_bucket_to_queue(s3, sqs, bucket, queue)
        es = Elasticsearch(es_node.url, request_timeout=60)
        tenants = (f"a{suffix}", f"g{suffix}")
        st = Stack(s3, sqs, es, es_node.url, moto_server.url, bucket, queue, dlq, tenants, tmp_path)
        try:
            yield st
        finally:
            if st.es_url == es_node.url:
                for tenant in tenants:
                    st.es.indices.delete(
                        index=f"recall-{tenant}-*", ignore_unavailable=True, allow_no_indices=True
                    )
            st.es.close()
            for url in (queue, dlq):
                await sqs.delete_queue(QueueUrl=url)


class WorkerTask:
    """The worker running in this process (the real `serve`, stopped by its stop event)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.metrics = Metrics()
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> WorkerTask:
        self.task = asyncio.create_task(serve(self.config, metrics=self.metrics, stop=self.stop))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, self.config.queue.shutdown_deadline_s + 30)


@pytest.fixture
def worker_env(stack: Stack) -> dict[str, str]:
    """Environment for a worker subprocess (python -m recall_fast worker)."""
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(REPO / "python") + os.pathsep + env.get("PYTHONPATH", ""),
            "RECALL_FAST_QUEUE__QUEUE_URL": stack.queue_url,
            "RECALL_FAST_QUEUE__DEAD_LETTER_QUEUE_URL": stack.dlq_url,
            "RECALL_FAST_QUEUE__WAIT_TIME_S": "1",
            "RECALL_FAST_QUEUE__RETRY_DELAYS_S": "1,1,1,1,1,1",
            "RECALL_FAST_ELASTICSEARCH__URLS": stack.es_url,
            "RECALL_FAST_ELASTICSEARCH__MAX_CHUNK_DOCS": "200",
            "RECALL_FAST_S3__ENDPOINT_URL": stack.aws_url,
            "RECALL_FAST_S3__REGION": "us-east-1",
            "RECALL_FAST_DEAD_LETTER__TARGET": str(stack.work / "dead-letter"),
            "RECALL_FAST_DECODE__THREADS": "2",
        }
    )
    return env


def start_worker(env: dict[str, str], *extra: str, log: Path) -> subprocess.Popen[bytes]:
    """Start `python -m recall_fast worker` as a child process."""
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "recall_fast", "worker", *extra],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_worker(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)


def messages_json(body: str) -> dict[str, object]:
    return json.loads(body)
