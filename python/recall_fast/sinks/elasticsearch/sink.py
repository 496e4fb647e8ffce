"""The Elasticsearch sink: pre-encoded bulk bodies, several in flight, nothing lost.

Stage: sink. The fused native processor already encoded each chunk as an NDJSON ``_bulk`` body;
this module only moves those bytes (``perform_request`` with an ``application/x-ndjson`` body, no
re-serialisation: the body stays the native chunk's ``memoryview`` until it is sent, and
:class:`BulkBodySerializer` makes the one ``bytes`` copy the HTTP layer needs, where
elastic-transport's own NDJSON serializer copies every 8 MiB body twice) and reads the filtered
response:

- memory: :class:`~recall_fast.orchestration.limits.ByteBudget` bounds the body bytes held
  (in flight or waiting to retry); ``write`` waits for room, which slows decoding and S3 reads;
- concurrency: :class:`~recall_fast.orchestration.limits.AdaptiveLimiter` bounds requests in
  flight and adapts the bound to latency and back pressure (AIMD on an EWMA of RTT);
- per item: 2xx and 409-on-create settle as indexed; 429/5xx items are cut out of the body by
  their line offsets and re-sent after a capped, jittered back-off; other 4xx items are written
  to the dead-letter store (document, index, id, error type and reason) before they settle;
- per request: connection failures, timeouts and 429/5xx answers retry the whole body within a
  time budget, after which the object fails transiently (the queue retries it later).

Clients are created from the configuration by :class:`ElasticsearchClients` (one per endpoint
set; a tenant may have its own cluster) and closed by whoever owns them (an ``AsyncExitStack``).

Must not import the native extension, sources or the pipeline.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import ClassVar, Final

import orjson
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, NdjsonSerializer, TransportError
from elasticsearch import ApiError, AsyncElasticsearch
from elasticsearch.serializer import OrjsonSerializer

from recall_fast.config import ElasticsearchConfig
from recall_fast.metrics import Metrics, RateLimitedLogger
from recall_fast.orchestration.limits import AdaptiveLimiter, ByteBudget
from recall_fast.sinks.base import select_items
from recall_fast.sinks.dead_letter import DeadLetterRecord, DeadLetterStore
from recall_fast.sinks.elasticsearch.response import (
    FILTER_PATH,
    BulkResponseError,
    BulkResult,
    parse_bulk_response,
)
from recall_fast.sinks.elasticsearch.retry import backoff_s, request_status_retryable
from recall_fast.types import BulkChunk, ObjectContext, RejectedDocument, SinkInput

_LOG: Final = logging.getLogger(__name__)
_BULK_HEADERS: Final = {"accept": "application/json", "content-type": "application/x-ndjson"}


class BulkBodySerializer(NdjsonSerializer):
    """NDJSON serializer for pre-encoded bodies: ``bytes`` as is, a ``memoryview`` copied once.

    elastic-transport's default copies a ``bytes`` body into a ``bytearray`` and back (two copies
    of every 8 MiB body) and refuses a ``memoryview``. A ``memoryview`` cannot go further as it
    is: the transport's request logging calls ``body.decode`` whenever a handler is configured
    anywhere up the logger tree. Anything else (a list of dicts) is serialised as before.
    """

    def dumps(self, data: object) -> bytes:
        """Return a pre-encoded body as ``bytes``; serialise anything else.

        Args:
            data: A body (``bytes``, ``memoryview``) or a sequence of lines/documents.

        Returns:
            The body to send.
        """
        if isinstance(data, bytes):
            return data
        if isinstance(data, memoryview):
            return data.tobytes()
        return super().dumps(data)


class ElasticsearchClients:
    """One ``AsyncElasticsearch`` per endpoint set: the shared cluster and per-tenant ones."""

    def __init__(self, config: ElasticsearchConfig) -> None:
        """Create the clients (no connection is made until the first request).

        Args:
            config: Endpoints, credentials, TLS and timeouts.
        """
        self._config = config
        if config.uses_tls() and not config.verify_certs:
            _LOG.warning(
                "TLS certificate verification is OFF for Elasticsearch (--es-insecure / "
                "elasticsearch.verify_certs=false): the connection can be intercepted"
            )
        self._clients: dict[tuple[str, ...], AsyncElasticsearch] = {}
        for urls in (config.urls, *config.tenant_urls.values()):
            if urls not in self._clients:
                self._clients[urls] = self._make(urls)

    def _make(self, urls: tuple[str, ...]) -> AsyncElasticsearch:
        c = self._config
        kwargs: dict[str, object] = {
            "request_timeout": c.request_timeout_s,
            # Retries are ours: the adaptive limiter must see every attempt and its latency.
            "max_retries": 0,
            "retry_on_timeout": False,
            "connections_per_node": c.max_concurrency,
            "http_compress": c.http_compress,
            "serializers": {
                "application/json": OrjsonSerializer(),
                "application/x-ndjson": BulkBodySerializer(),
            },
        }
        if any(u.lower().startswith("https://") for u in urls):
            kwargs["verify_certs"] = c.verify_certs
            if c.verify_certs:
                if c.ca_certs:
                    kwargs["ca_certs"] = c.ca_certs
            else:
                # Our own warning (once, in __init__) replaces the library's per-connection one.
                kwargs["ssl_show_warn"] = False
            if c.client_cert:
                kwargs["client_cert"] = c.client_cert
                if c.client_key:
                    kwargs["client_key"] = c.client_key
        if c.api_key:
            kwargs["api_key"] = c.api_key
        elif c.username is not None:
            kwargs["basic_auth"] = (c.username, c.password or "")
        return AsyncElasticsearch(hosts=list(urls), **kwargs)  # type: ignore[arg-type]

    def for_tenant(self, tenant: str) -> AsyncElasticsearch:
        """The client of the cluster serving ``tenant``."""
        return self._clients[self._config.urls_for(tenant)]

    def all(self) -> list[AsyncElasticsearch]:
        """Every client."""
        return list(self._clients.values())

    async def aclose(self) -> None:
        """Close every client's connections."""
        for client in self._clients.values():
            await client.close()


class _RequestFailed(Exception):
    """A bulk request kept failing for the whole retry budget (object fails transiently)."""


class ElasticsearchSink:
    """Sends bulk bodies with bounded, adaptive concurrency and per-item retries."""

    consumes: ClassVar[SinkInput] = SinkInput.BULK

    def __init__(
        self,
        clients: ElasticsearchClients,
        config: ElasticsearchConfig,
        dead_letters: DeadLetterStore,
        *,
        metrics: Metrics,
        log: RateLimitedLogger,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Args: clients: per-tenant clients; config: sizes, retries, concurrency;
        dead_letters: store for rejected documents; metrics, log: observability; sleep, rand,
        clock: injectable for tests."""
        self._clients = clients
        self._config = config
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._log = log
        self._sleep = sleep
        self._rand = rand
        self._clock = clock

        def on_limit(limit: int, in_flight: int) -> None:
            metrics.concurrency_limit.set(limit)
            metrics.bulk_in_flight.set(in_flight)

        self._limiter = AdaptiveLimiter(
            initial=config.initial_concurrency,
            max_limit=config.max_concurrency,
            adaptive=config.adaptive_concurrency,
            on_change=on_limit,
            clock=clock,
        )
        metrics.concurrency_limit.set(self._limiter.limit)
        self._budget = ByteBudget(
            max_bytes=config.max_inflight_bytes,
            max_items=config.max_pending_chunks,
            on_change=lambda held: metrics.sink_bytes_held.set(held),
        )

    @property
    def limiter(self) -> AdaptiveLimiter:
        """The adaptive request limiter (for metrics and tests)."""
        return self._limiter

    async def write(self, item: BulkChunk, ctx: ObjectContext) -> None:
        """Admit one body (waiting for room) and send it in the object's task group."""
        # The body stays the native buffer (a memoryview, no copy) until it is sent; only a
        # retry or a dead letter, which cut it into items, turns it into bytes.
        body = item.body
        await self._budget.acquire(len(body))
        ctx.spawn(self._deliver(body, item.n_docs, ctx))

    async def reject(self, documents: Sequence[RejectedDocument], ctx: ObjectContext) -> None:
        """Dead-letter documents the encoder could not fit in a body (larger than a body).

        Their text is not available (it was never encoded), so the record holds the id and the
        reason; the object fails transiently if the store cannot take them.
        """
        records = [
            DeadLetterRecord(
                tenant=ctx.tenant,
                index="",
                doc_id=d.doc_id,
                status=413,
                error_type="document_too_large",
                reason=d.reason,
                document=b"null",
                source=ctx.ref.uri,
                action=self._config.action,
            )
            for d in documents
        ]
        await self._store(records, ctx)

    async def end_object(self, ctx: ObjectContext) -> None:
        """Nothing to finalise: every body settled before the object's task group ended."""

    async def abort_object(self, ctx: ObjectContext) -> None:
        """Nothing to undo: indexed documents stay (ids are deterministic; a retry overwrites)."""

    async def aclose(self) -> None:
        """The clients are closed by their owner."""

    async def _deliver(self, body: bytes | memoryview, n_docs: int, ctx: ObjectContext) -> None:
        """Send one body until every item is indexed or dead-lettered, or the object fails."""
        held = len(body)
        try:
            await self._deliver_items(body, n_docs, ctx)
        finally:
            await self._budget.release(held)

    async def _deliver_items(
        self, body: bytes | memoryview, n_docs: int, ctx: ObjectContext
    ) -> None:
        client = self._clients.for_tenant(ctx.tenant)
        round_ = 0
        while True:
            try:
                response = await self._send(client, body, ctx)
                result = parse_bulk_response(response, n_docs, self._config.action)
            except (_RequestFailed, BulkResponseError) as error:
                ctx.fail(f"elasticsearch: {error}")
                return
            ctx.indexed(result.indexed, already=result.already_indexed)
            self._metrics.documents_indexed.inc(result.indexed)
            if result.rejected:
                if not await self._dead_letter(body, result, ctx):
                    return
            if not result.retry:
                return
            round_ += 1
            if round_ > self._config.item_retry_attempts:
                ctx.fail(
                    f"elasticsearch: {len(result.retry)} items still rejected with "
                    f"{sorted(result.retry_statuses)} after {round_ - 1} retries"
                )
                return
            body = select_items(bytes(body), result.retry)
            n_docs = len(result.retry)
            ctx.counts.documents_retried += n_docs
            self._metrics.documents_retried.inc(n_docs)
            await self._sleep(self._backoff(round_))

    def _backoff(self, attempt: int) -> float:
        c = self._config
        return backoff_s(attempt, base_s=c.retry_base_s, cap_s=c.retry_cap_s, rand=self._rand)

    async def _send(
        self, client: AsyncElasticsearch, body: bytes | memoryview, ctx: ObjectContext
    ) -> Mapping[str, object]:
        """POST one body, retrying whole-request failures within the time budget.

        Raises:
            _RequestFailed: Still failing when the budget ran out, or a non-retryable status.
        """
        started = self._clock()
        attempt = 0
        while True:
            error: str
            async with self._limiter.permit() as permit:
                try:
                    async with asyncio.timeout(self._config.request_timeout_s + 5):
                        response = await client.perform_request(
                            "PUT",
                            "/_bulk",
                            params={"filter_path": FILTER_PATH},
                            headers=_BULK_HEADERS,
                            body=body,
                        )
                except (TransportConnectionError, ConnectionTimeout, TimeoutError) as exc:
                    permit.backpressure()
                    error = f"{type(exc).__name__}: {exc}"
                    self._metrics.bulk_requests.inc(result="connection_error")
                except ApiError as exc:
                    status = exc.meta.status
                    if not request_status_retryable(status):
                        permit.done()
                        self._metrics.bulk_requests.inc(result=f"http_{status}")
                        raise _RequestFailed(f"bulk request answered {status}: {exc}") from exc
                    permit.backpressure()
                    error = f"HTTP {status}"
                    self._metrics.bulk_requests.inc(result=f"http_{status}")
                except TransportError as exc:
                    permit.backpressure()
                    error = f"{type(exc).__name__}: {exc}"
                    self._metrics.bulk_requests.inc(result="transport_error")
                else:
                    self._metrics.bulk_latency_s.observe(permit.done())
                    self._metrics.bulk_requests.inc(result="ok")
                    decoded = response.body
                    if isinstance(decoded, bytes | str):
                        decoded = orjson.loads(decoded)
                    if not isinstance(decoded, Mapping):
                        raise _RequestFailed("bulk response is not a JSON object")
                    return decoded
            attempt += 1
            elapsed = self._clock() - started
            self._log.warning(
                "bulk.request_retry",
                "bulk request failed, retrying",
                error=error,
                attempt=attempt,
                tenant=ctx.tenant,
            )
            if elapsed >= self._config.request_retry_budget_s:
                raise _RequestFailed(f"{error} (still failing after {elapsed:.0f} s)")
            await self._sleep(self._backoff(attempt))

    async def _dead_letter(
        self, body: bytes | memoryview, result: BulkResult, ctx: ObjectContext
    ) -> bool:
        """Store rejected items; returns False when the store failed (object failed)."""
        lines = bytes(body).split(b"\n")
        records: list[DeadLetterRecord] = []
        for item in result.rejected:
            action_line = lines[2 * item.position]
            document = lines[2 * item.position + 1]
            action, index, doc_id = _action_meta(action_line)
            records.append(
                DeadLetterRecord(
                    tenant=ctx.tenant,
                    index=index,
                    doc_id=doc_id,
                    status=item.status,
                    error_type=item.error_type,
                    reason=item.reason,
                    document=document,
                    source=ctx.ref.uri,
                    action=action,
                )
            )
        return await self._store(records, ctx)

    async def _store(self, records: list[DeadLetterRecord], ctx: ObjectContext) -> bool:
        """Write dead-letter records and settle them; False (object failed) if the store fails."""
        try:
            where = await self._dead_letters.put(ctx.tenant, ctx.ref, records)
        except (OSError, TimeoutError) as error:
            ctx.fail(f"dead-letter store: {error}")
            return False
        ctx.dead_lettered(len(records))
        by_type: dict[str, int] = {}
        for record in records:
            by_type[record.error_type] = by_type.get(record.error_type, 0) + 1
        for error_type, count in by_type.items():
            self._metrics.documents_dead_lettered.inc(
                count, tenant=ctx.tenant, error_type=error_type or "unknown"
            )
        first = records[0]
        self._log.error(
            "bulk.dead_lettered",
            "documents rejected by Elasticsearch were dead-lettered",
            tenant=ctx.tenant,
            count=len(records),
            error_type=first.error_type,
            reason=first.reason[:500],
            index=first.index,
            stored=where,
        )
        return True


def _action_meta(line: bytes) -> tuple[str, str, str]:
    """Return (action, _index, _id) from a bulk action line ("" when absent)."""
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        return "", "", ""
    if not isinstance(doc, dict) or len(doc) != 1:
        return "", "", ""
    action, meta = next(iter(doc.items()))
    if not isinstance(meta, dict):
        return str(action), "", ""
    return str(action), str(meta.get("_index", "")), str(meta.get("_id", ""))
