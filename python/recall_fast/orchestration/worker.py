"""The queue worker: SQS notifications -> S3 -> native pipeline -> Elasticsearch, until stopped.

Stage: orchestration. One process does the work of many Lambdas: it holds up to
``queue.max_messages_in_flight`` messages, each kept invisible by the source's heartbeat, and
processes their objects concurrently (decode in the executor, sends on the event loop). Every
task lives in one TaskGroup; clients live in the caller's ``AsyncExitStack``.

Shutdown (SIGTERM/SIGINT sets the stop event): stop receiving (the current long poll ends by
itself, anything it still returns is released at once), let in-flight objects finish until
``queue.shutdown_deadline_s``, then cancel the rest and make their messages visible again
(visibility 0) so another worker takes them without waiting; exit 0. A message whose object was
cancelled half-way is simply redone elsewhere: document ids are deterministic.

:func:`open_components` is the one place that wires S3, SQS, Elasticsearch, the dead-letter
store, the pipeline and the source; the Lambda entry uses it too, so the two consumers cannot
drift apart in retry, dead-letter, sink or metrics behaviour.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Final

from recall_fast.config import Config
from recall_fast.decode.stream import ProcessorFactory
from recall_fast.errors import ConfigError
from recall_fast.metrics import EmfEmitter, Metrics, RateLimitedLogger
from recall_fast.orchestration.assembly import Observability, open_s3, open_sqs
from recall_fast.orchestration.pipeline import Pipeline
from recall_fast.orchestration.runtime import (
    emit_emf,
    install_stop_signals,
    make_executor,
    metrics_server,
)
from recall_fast.sinks.base import SinkSpec
from recall_fast.sinks.dead_letter import DeadLetterStore, LocalDeadLetterStore, S3DeadLetterStore
from recall_fast.sinks.elasticsearch.sink import ElasticsearchClients, ElasticsearchSink
from recall_fast.sinks.ndjson import NdjsonSink
from recall_fast.sinks.null import NullSink
from recall_fast.sources.events import TenantResolver
from recall_fast.sources.s3 import S3Client, S3Reader
from recall_fast.sources.sqs import Disposition, ReceivedMessage, SqsClient, SqsSource
from recall_fast.types import BulkChunk, Sink

#: After the shutdown deadline, how long cancelled objects get to unwind before release.
_CANCEL_GRACE_S: Final = 5.0


@dataclass(frozen=True, slots=True)
class Components:
    """Everything a queue consumer needs, wired from one Config."""

    s3: S3Client
    reader: S3Reader
    sqs: SqsClient
    sink: Sink[BulkChunk]
    dead_letters: DeadLetterStore
    pipeline: Pipeline[BulkChunk]
    source: SqsSource


async def open_components(
    config: Config,
    stack: contextlib.AsyncExitStack,
    *,
    obs: Observability,
    executor: Executor,
    stop: asyncio.Event | None = None,
    hold_deadline: Callable[[], float] | None = None,
    on_settled: Callable[[ReceivedMessage, Disposition], None] | None = None,
    fan_out_parts: bool = False,
    max_continuations: int | None = None,
    sink_spec: SinkSpec | None = None,
) -> Components:
    """Create the clients (entered into ``stack``) and wire the consumer.

    Args:
        config: The configuration (``queue.queue_url`` required).
        stack: Owns every client; closing it closes them.
        obs: Metrics and logger.
        executor: The pipeline's thread pool.
        stop: Pipeline stop event (objects end at a checkpoint when set; Lambda budget).
        hold_deadline: Overrides the per-message processing deadline (see SqsSource).
        on_settled: Told how each message was settled.
        fan_out_parts: Continue a split object's ranges as separate messages.
        max_continuations: Longest continuation chain before an object counts as stuck.
        sink_spec: Destination; Elasticsearch (from the config) when None. ``null`` and
            ``ndjson`` are accepted too (benchmarks, debugging); Parquet is not a queue sink.

    Returns:
        The components.

    Raises:
        ConfigError: Missing queue URL or invalid Elasticsearch settings.
    """
    s3 = await open_s3(stack, config)
    reader = S3Reader(
        s3, chunk_bytes=config.decode.read_chunk_bytes, timeout_s=config.s3.request_timeout_s
    )
    sqs = await open_sqs(stack, config)
    clients = ElasticsearchClients(config.elasticsearch)
    stack.push_async_callback(clients.aclose)
    target = config.dead_letter.target
    dead_letters: DeadLetterStore
    if target.startswith("s3://"):
        dead_letters = S3DeadLetterStore(s3, target, timeout_s=config.s3.request_timeout_s)
    else:
        from pathlib import Path

        dead_letters = LocalDeadLetterStore(Path(target), executor=executor)
    sink: Sink[BulkChunk]
    if sink_spec is None or sink_spec.kind == "elasticsearch":
        sink = ElasticsearchSink(
            clients, config.elasticsearch, dead_letters, metrics=obs.metrics, log=obs.log
        )
    elif sink_spec.kind == "null":
        sink = NullSink()
    elif sink_spec.kind == "ndjson":
        ndjson = NdjsonSink(sink_spec.path, executor=executor)
        stack.push_async_callback(ndjson.aclose)
        sink = ndjson
    else:
        raise ConfigError(
            f"the worker cannot write to {sink_spec.kind}: use es://, ndjson: or null"
        )
    pipeline = Pipeline(
        sink=sink,
        streams=ProcessorFactory(config, executor),
        reader=reader,
        tenants=TenantResolver(config.tenants),
        features=config.features,
        decode=config.decode,
        metrics=obs.metrics,
        log=obs.log,
        stop=stop,
    )
    source = SqsSource(
        sqs,
        config.queue,
        reader,
        metrics=obs.metrics,
        log=obs.log,
        request_timeout_s=config.s3.request_timeout_s,
        hold_deadline=hold_deadline,
        on_settled=on_settled,
        fan_out_parts=fan_out_parts,
        max_continuations=max_continuations,
    )
    return Components(s3, reader, sqs, sink, dead_letters, pipeline, source)


class Worker:
    """Runs the receive -> process -> settle loop until stopped."""

    def __init__(self, components: Components, config: Config, obs: Observability) -> None:
        """Args: components: from :func:`open_components`; config: queue and observability
        settings; obs: metrics and logger."""
        self._c = components
        self._config = config
        self._obs = obs

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, then drain within the shutdown deadline.

        Raises:
            ConfigError: The queue does not exist (from the first receive).
        """
        source = self._c.source
        tasks: set[asyncio.Task[object]] = set()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.TaskGroup() as group:
                background: list[asyncio.Task[object]] = [group.create_task(source.heartbeat())]
                obs = self._config.observability
                if obs.emf:
                    emitter = EmfEmitter(self._obs.metrics, obs.emf_namespace)
                    background.append(
                        group.create_task(emit_emf(emitter, obs.emf_interval_s, _stdout_line))
                    )
                intake = group.create_task(self._intake(group, tasks))
                stopper = group.create_task(stop.wait())
                background.append(stopper)
                await asyncio.wait({intake, stopper}, return_when=asyncio.FIRST_COMPLETED)
                self._obs.log.info("worker.draining", "draining", in_flight=len(tasks))
                source.stop()
                deadline = loop.time() + self._config.queue.shutdown_deadline_s
                try:
                    async with asyncio.timeout_at(deadline):
                        await asyncio.wait({intake})
                        while tasks:
                            await asyncio.wait(set(tasks))
                except TimeoutError:
                    pending = [t for t in (intake, *tasks) if not t.done()]
                    self._obs.log.warning(
                        "worker.deadline", "shutdown deadline: cancelling", objects=len(pending)
                    )
                    for task in pending:
                        task.cancel()
                    if pending:
                        await asyncio.wait(pending, timeout=_CANCEL_GRACE_S)
                for task in background:
                    task.cancel()
        finally:
            released = await source.release_held()
            self._obs.log.info("worker.stopped", "worker stopped", released=released)

    async def _intake(self, group: asyncio.TaskGroup, tasks: set[asyncio.Task[object]]) -> None:
        """Start one task per delivery until the source stops."""
        async with contextlib.aclosing(self._c.source.deliveries()) as deliveries:
            async for delivery in deliveries:
                task: asyncio.Task[object] = group.create_task(self._c.pipeline.handle(delivery))
                tasks.add(task)
                task.add_done_callback(tasks.discard)


def _stdout_line(line: bytes) -> None:
    """Write one EMF line to stdout (CloudWatch agent / Lambda runtime pick it up)."""
    sys.stdout.buffer.write(line)
    sys.stdout.buffer.flush()


async def serve(
    config: Config,
    *,
    metrics: Metrics | None = None,
    stop: asyncio.Event | None = None,
    on_metrics_port: Callable[[int], None] | None = None,
    sink_spec: SinkSpec | None = None,
) -> None:
    """Run a worker until SIGTERM/SIGINT (or ``stop``), then shut down within the deadline.

    Args:
        config: The configuration.
        metrics: Registry (a new one when None).
        stop: Stop event (signals set it too).
        on_metrics_port: Told the bound Prometheus port (when the endpoint is enabled).
        sink_spec: Destination (Elasticsearch from the config when None).

    Raises:
        ConfigError: Invalid configuration or missing queue.
    """
    metrics = metrics or Metrics()
    o = config.observability
    log = RateLimitedLogger(
        logging.getLogger("recall_fast.worker"),
        rate_per_s=o.log_rate_per_s,
        burst=o.log_burst,
        metrics=metrics,
    )
    obs = Observability(metrics, log)
    stop = stop or asyncio.Event()
    remove_signals = install_stop_signals(stop, log)
    executor = make_executor(config.decode.effective_threads())
    try:
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(executor.shutdown, wait=True)
            if o.metrics_port is not None:
                port = await stack.enter_async_context(
                    metrics_server(metrics, o.metrics_host, o.metrics_port)
                )
                log.info("worker.metrics", "serving Prometheus metrics", port=port)
                if on_metrics_port is not None:
                    on_metrics_port(port)
            components = await open_components(
                config, stack, obs=obs, executor=executor, sink_spec=sink_spec
            )
            log.info("worker.started", "worker started", queue=config.queue.queue_url)
            await Worker(components, config, obs).run(stop)
    finally:
        remove_signals()
