"""End to end on real services: S3 upload -> SQS notification -> worker -> Elasticsearch.

Each test builds its own bucket, queues and tenants (see conftest.Stack) and runs the real
worker (`orchestration.worker.serve`) in this process; crash and signal tests run it as a
subprocess in tests/integration/test_worker_process.py.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time

import pytest

from recall_fast.sinks.dead_letter import read_local_dead_letters
from tests.integration.conftest import Stack, WorkerTask

pytestmark = pytest.mark.integration


async def until(predicate, timeout_s: float = 120.0) -> None:
    """Poll ``predicate`` (a metric condition) until it holds."""
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110 - metrics have no event to wait on
            await asyncio.sleep(0.2)


SMALL = {"sensors": 1, "records_per_minute": {"conn": 30}}


async def test_counts_isolation_deletion_and_redelivery(stack: Stack):
    stack.generate(
        minutes=3,
        log_types=["conn", "dns", "http", "ssl"],
        format="tsv",
        compression="gzip",
        **SMALL,
    )
    stack.generate(
        minutes=2, log_types=["conn", "dns"], format="json", compression="zstd", seed=7, **SMALL
    )
    keys = await stack.upload_all()
    assert len(keys) == 2 * (3 * 4 + 2 * 2)
    config = stack.config()
    async with WorkerTask(config) as worker:
        counts = await stack.wait_counts(stack.expected)
        assert counts == stack.expected
        assert await stack.wait_queue_empty() == (0, 0)
    assert stack.cross_tenant_documents() == 0
    m = worker.metrics
    assert m.objects.value(outcome="done") == len(keys)
    assert m.messages.value(action="deleted") == len(keys)
    assert m.messages.value(action="test_event") == 1

    # Redelivery: the same objects announced again (S3 delivers at least once).
    for key in keys[:10]:
        body = (stack.work / "input" / key).read_bytes()
        await stack.s3.put_object(Bucket=stack.bucket, Key=key, Body=body)
    async with WorkerTask(config) as again:
        assert await stack.wait_queue_empty() == (0, 0)
        await until(lambda: again.metrics.objects.total() >= 10)
    assert await asyncio.to_thread(stack.counts) == stack.expected
    assert again.metrics.documents_indexed.total() > 0
    assert stack.cross_tenant_documents() == 0


async def test_mapping_rejection_goes_to_dead_letter_store(stack: Stack):
    stack.generate(minutes=1, log_types=["conn"], **SMALL)
    tenant = stack.tenants[0]
    # A mapping the documents only partly fit: ports above 127 overflow a `byte`.
    stack.es.indices.create(
        index=f"recall-{tenant}-zeek.conn-2024.05.01",
        settings={"number_of_replicas": 0},
        mappings={"properties": {"destination": {"properties": {"port": {"type": "byte"}}}}},
    )
    await stack.upload_all()
    async with WorkerTask(stack.config()) as worker:
        assert await stack.wait_queue_empty() == (0, 0)
        await until(lambda: worker.metrics.objects.total() >= 2)
    stored = [
        r async for _, recs in read_local_dead_letters(stack.work / "dead-letter") for r in recs
    ]
    assert stored, "some documents must have been rejected"
    assert all(r.tenant == tenant for r in stored)
    assert all(r.status == 400 and "pars" in r.error_type for r in stored)
    assert all("destination.port" in r.reason for r in stored)
    assert all(json.loads(r.document)["destination"]["port"] > 127 for r in stored)
    counts = await asyncio.to_thread(stack.counts)
    assert counts[tenant] + len(stored) == stack.expected[tenant]
    assert counts[stack.tenants[1]] == stack.expected[stack.tenants[1]]
    m = worker.metrics
    assert m.documents_dead_lettered.total() == len(stored)
    assert m.objects.value(outcome="done") == 2


async def test_garbage_and_unknown_tenants_go_to_dlq_at_once(stack: Stack):
    tenant = stack.tenants[0]
    objects = {
        f"{tenant}/s1/conn/junk.log": b"hello\nthis is not a zeek log\n",
        f"{tenant}/s1/conn/broken.log.gz": gzip.compress(b"#separator \\x09\n" * 5000)[:-50],
        "Bad_Tenant/s1/conn/conn.log": b"#separator \\x09\n",
        "nodir.log": b"x\n",
    }
    for key, body in objects.items():
        await stack.s3.put_object(Bucket=stack.bucket, Key=key, Body=body)
    async with WorkerTask(stack.config()) as worker:
        dead = await stack.dlq_messages(len(objects))
        assert await stack.wait_queue_empty() == (0, 0)
    types = sorted(m["MessageAttributes"]["recall_error_type"]["StringValue"] for m in dead)
    assert types == [
        "corrupt_compressed_stream",
        "invalid_tenant",
        "invalid_tenant",
        "not_a_zeek_log",
    ]
    assert all(m["MessageAttributes"]["recall_receive_count"]["StringValue"] == "1" for m in dead)
    assert worker.metrics.messages_dead_lettered.total() == len(objects)


async def test_transient_failure_follows_visibility_delays_then_dlq(stack: Stack):
    stack.generate(minutes=1, log_types=["dns"], **SMALL)
    await stack.upload_all()
    config = stack.config(
        elasticsearch={"urls": "http://127.0.0.1:9", "request_retry_budget_s": 0.3},
        queue={"retry_delays_s": "1,2"},
    )
    started = time.monotonic()
    async with WorkerTask(config) as worker:
        dead = await stack.dlq_messages(2, timeout_s=60)
    elapsed = time.monotonic() - started
    assert len(dead) == 2
    attrs = [m["MessageAttributes"] for m in dead]
    assert {a["recall_error_type"]["StringValue"] for a in attrs} == {"retries_exhausted"}
    assert {a["recall_receive_count"]["StringValue"] for a in attrs} == {"3"}
    assert elapsed >= 1 + 2  # waited out both delays before giving up
    assert worker.metrics.messages.value(action="retry_delayed") == 4
    assert await stack.queue_depth() == (0, 0)


async def test_elasticsearch_restart_mid_run_exact_counts(stack: Stack, es_node_factory):
    node = es_node_factory()
    stack.use_node(node.url)
    stack.generate(minutes=4, log_types=["conn", "dns", "http"], **SMALL)
    keys = sorted(
        p.relative_to(stack.work / "input").as_posix()
        for p in (stack.work / "input").rglob("*")
        if p.is_file()
    )
    first, second = keys[: len(keys) // 2], keys[len(keys) // 2 :]
    config = stack.config(queue={"retry_delays_s": "2,4,8,16,32,64"})
    async with WorkerTask(config) as worker:
        for key in first:
            await stack.s3.put_object(
                Bucket=stack.bucket, Key=key, Body=(stack.work / "input" / key).read_bytes()
            )
        await until(lambda: worker.metrics.objects.value(outcome="done") >= len(first) // 2)
        await asyncio.to_thread(node.stop)
        for key in second:
            await stack.s3.put_object(
                Bucket=stack.bucket, Key=key, Body=(stack.work / "input" / key).read_bytes()
            )
        await asyncio.sleep(5)
        await asyncio.to_thread(node.start)
        counts = await stack.wait_counts(stack.expected, timeout_s=240)
        assert counts == stack.expected
        assert await stack.wait_queue_empty(timeout_s=120) == (0, 0)
    assert worker.metrics.objects.value(outcome="retry") > 0
    assert worker.metrics.messages_dead_lettered.total() == 0


async def test_429_backpressure_exact_counts(stack: Stack, es_node_factory):
    node = es_node_factory(
        settings={"thread_pool.write.size": 1, "thread_pool.write.queue_size": 1}
    )
    stack.use_node(node.url)
    stack.generate(minutes=3, log_types=["conn", "dns", "http", "ssl"], **SMALL)
    await stack.upload_all()
    config = stack.config(
        elasticsearch={
            "max_chunk_docs": 10,
            "initial_concurrency": 8,
            "max_concurrency": 16,
            "item_retry_attempts": 50,
            "request_retry_budget_s": 60,
        },
        queue={"max_messages_in_flight": 10},
    )
    async with WorkerTask(config) as worker:
        counts = await stack.wait_counts(stack.expected, timeout_s=240)
        assert counts == stack.expected
        assert await stack.wait_queue_empty() == (0, 0)
    m = worker.metrics
    rejected = m.documents_retried.total() + m.bulk_requests.value(result="http_429")
    assert rejected > 0, "the tiny write queue must have answered 429"
    assert m.messages_dead_lettered.total() == 0
