"""The Elasticsearch sink against a real node: indexing, redelivery, dead letters, outages."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import pytest
from elasticsearch import Elasticsearch

from recall_fast.config import ElasticsearchConfig
from recall_fast.metrics import Metrics, RateLimitedLogger
from recall_fast.orchestration.acks import settle_outcome
from recall_fast.sinks.dead_letter import LocalDeadLetterStore, read_local_dead_letters
from recall_fast.sinks.elasticsearch.sink import ElasticsearchClients, ElasticsearchSink
from recall_fast.types import OutcomeKind
from tests.sinks.conftest import Chunk, make_ctx

pytestmark = pytest.mark.integration


def body(
    index: str, docs: list[dict[str, object]], *, start: int = 0, action: str = "create"
) -> bytes:
    lines = []
    for i, doc in enumerate(docs, start):
        lines.append(json.dumps({action: {"_index": index, "_id": f"id-{i}"}}))
        lines.append(json.dumps(doc))
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def index(es_client: Elasticsearch):
    name = f"recall-acme-test-{uuid.uuid4().hex[:8]}"
    es_client.indices.create(
        index=name,
        settings={"number_of_replicas": 0},
        mappings={"properties": {"n": {"type": "long"}, "s": {"type": "keyword"}}},
    )
    yield name
    es_client.indices.delete(index=name, ignore_unavailable=True)


async def run_sink(sink: ElasticsearchSink, chunks: list[Chunk]):
    ctx = make_ctx()
    async with asyncio.TaskGroup() as group:
        ctx.bind(group)
        for chunk in chunks:
            ctx.submitted(chunk.n_docs)
            await sink.write(chunk, ctx)
    return ctx


def make_sink(
    url: str, tmp_path, **overrides
) -> tuple[ElasticsearchSink, ElasticsearchClients, Metrics]:
    config = ElasticsearchConfig(urls=(url,), **overrides)
    clients = ElasticsearchClients(config)
    metrics = Metrics()
    log = RateLimitedLogger(logging.getLogger("recall_fast.test"), rate_per_s=10, burst=10)
    store = LocalDeadLetterStore(tmp_path / "dlq")
    return ElasticsearchSink(clients, config, store, metrics=metrics, log=log), clients, metrics


async def test_index_redeliver_and_dead_letter(es_node, es_client, index, tmp_path):
    sink, clients, metrics = make_sink(es_node.url, tmp_path, max_concurrency=4)
    try:
        # Native chunks carry memoryview bodies (no copy), other producers bytes: both go out.
        chunks = [
            Chunk(
                (memoryview if k % 100 else bytes)(
                    body(index, [{"n": i, "s": "x"} for i in range(k, k + 50)], start=k)
                ),
                50,
            )
            for k in range(0, 500, 50)
        ]
        ctx = await run_sink(sink, chunks)
        assert ctx.counts.documents_indexed == 500
        assert settle_outcome(ctx).kind is OutcomeKind.DONE
        es_client.indices.refresh(index=index)
        assert es_client.count(index=index)["count"] == 500

        # Redelivery: same ids, action=create -> 409 -> counted as already indexed.
        again = await run_sink(sink, chunks[:2])
        assert again.counts.documents_indexed == 100
        assert again.counts.documents_already_indexed == 100
        es_client.indices.refresh(index=index)
        assert es_client.count(index=index)["count"] == 500

        # One document the mapping rejects: dead-lettered with the reason; the rest indexed.
        docs = [{"n": 1000 + i} for i in range(9)] + [{"n": "not a number"}]
        mixed = await run_sink(sink, [Chunk(memoryview(body(index, docs, start=1000)), 10)])
        assert mixed.counts.documents_indexed == 9
        assert mixed.counts.documents_dead_lettered == 1
        assert settle_outcome(mixed).kind is OutcomeKind.DONE
        stored = [r async for _, recs in read_local_dead_letters(tmp_path / "dlq") for r in recs]
        (record,) = stored
        assert record.doc_id == "id-1009"
        assert record.index == index
        assert record.status == 400
        assert "pars" in record.error_type
        assert json.loads(record.document) == {"n": "not a number"}
        assert metrics.documents_dead_lettered.total() == 1
        assert metrics.bulk_latency_s.count() >= 12
        assert sink.limiter.limit >= 1
    finally:
        await clients.aclose()


async def test_unreachable_cluster_fails_the_object_transiently(tmp_path):
    sink, clients, metrics = make_sink(
        "http://127.0.0.1:9",
        tmp_path,
        request_retry_budget_s=0.5,
        retry_base_s=0.05,
        retry_cap_s=0.1,
    )
    try:
        ctx = await run_sink(sink, [Chunk(body("recall-acme-x", [{"n": 1}]), 1)])
        outcome = settle_outcome(ctx)
        assert outcome.kind is OutcomeKind.RETRY
        assert "still failing" in outcome.reason
        assert metrics.bulk_requests.value(result="connection_error") >= 2
        assert sink.limiter.in_flight == 0
    finally:
        await clients.aclose()


def test_per_tenant_endpoints_get_their_own_client():
    config = ElasticsearchConfig(
        urls=("http://shared:9200",),
        tenant_urls={"acme": ("http://acme-es:9200",), "initech": ("http://acme-es:9200",)},
    )
    clients = ElasticsearchClients(config)
    assert len(clients.all()) == 2
    assert clients.for_tenant("acme") is clients.for_tenant("initech")
    assert clients.for_tenant("globex") is not clients.for_tenant("acme")
    asyncio.run(clients.aclose())
