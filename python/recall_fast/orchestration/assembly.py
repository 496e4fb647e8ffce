"""Wiring: clients, sinks and pipelines built from a Config inside an AsyncExitStack.

Stage: orchestration (edge). Entry points (``ingest``, ``worker``, ``dlq replay``) call these
to build what they run; every client is entered into the caller's ``AsyncExitStack`` so it is
closed on every exit path, and nothing here is kept in module state.

Which native stream goes with which sink is decided here, once: the Parquet sink consumes typed
Arrow batches from the decoder, every other sink consumes bulk bodies from the fused processor.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

from recall_fast.config import Config
from recall_fast.decode.stream import DecoderFactory, ProcessorFactory, StreamFactory
from recall_fast.errors import ConfigError
from recall_fast.metrics import Metrics, RateLimitedLogger
from recall_fast.orchestration.pipeline import Pipeline
from recall_fast.sinks.base import SinkSpec
from recall_fast.sinks.dead_letter import DeadLetterStore, LocalDeadLetterStore, S3DeadLetterStore
from recall_fast.sinks.elasticsearch.sink import ElasticsearchClients, ElasticsearchSink
from recall_fast.sinks.ndjson import NdjsonSink
from recall_fast.sinks.null import NullSink
from recall_fast.sources.events import TenantResolver
from recall_fast.sources.s3 import S3Client
from recall_fast.sources.sqs import SqsClient
from recall_fast.types import ByteReader, Delivery, ObjectRef, Outcome, Sink, Source

ItemT = TypeVar("ItemT")


class ObjectProcessor(Protocol):
    """A pipeline, whatever its sink consumes."""

    async def run(self, source: Source, *, max_in_flight: int) -> None:
        """Process a finite source."""
        ...

    async def handle(self, delivery: Delivery) -> Outcome:
        """Process one delivery and settle it."""
        ...

    async def process(self, ref: ObjectRef) -> Outcome:
        """Process one object."""
        ...


@dataclass(frozen=True, slots=True)
class Observability:
    """Metrics and the rate-limited logger, created once per process."""

    metrics: Metrics
    log: RateLimitedLogger


@contextlib.asynccontextmanager
async def aws_client(service: str, config: Config) -> AsyncIterator[object]:
    """Create an aiobotocore client for ``service`` (s3, sqs) and close it on exit.

    Endpoint and region come from the config when set, else from botocore's own chain
    (``AWS_ENDPOINT_URL``, ``AWS_DEFAULT_REGION``, profiles, instance roles).

    Yields:
        The client.
    """
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session
    from botocore.exceptions import NoRegionError

    s3 = config.s3
    session = get_session()
    client_config = AioConfig(
        max_pool_connections=s3.max_pool_connections,
        connect_timeout=min(10.0, s3.request_timeout_s),
        read_timeout=s3.request_timeout_s,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    async with contextlib.AsyncExitStack() as inner:
        try:
            if service == "sqs":
                client: object = await inner.enter_async_context(
                    session.create_client(
                        "sqs",
                        endpoint_url=s3.endpoint_url,
                        region_name=s3.region,
                        config=client_config,
                    )
                )
            else:
                client = await inner.enter_async_context(
                    session.create_client(
                        "s3",
                        endpoint_url=s3.endpoint_url,
                        region_name=s3.region,
                        config=client_config,
                    )
                )
        except NoRegionError as error:
            raise ConfigError("no AWS region: set --s3-region or AWS_DEFAULT_REGION") from error
        yield client


async def open_s3(stack: contextlib.AsyncExitStack, config: Config) -> S3Client:
    """Enter an S3 client into ``stack``."""
    client: S3Client = await stack.enter_async_context(aws_client("s3", config))  # type: ignore[arg-type]
    return client


async def open_sqs(stack: contextlib.AsyncExitStack, config: Config) -> SqsClient:
    """Enter an SQS client into ``stack``."""
    client: SqsClient = await stack.enter_async_context(aws_client("sqs", config))  # type: ignore[arg-type]
    return client


async def open_dead_letters(
    stack: contextlib.AsyncExitStack, config: Config, executor: Executor
) -> DeadLetterStore:
    """The dead-letter store named by ``dead_letter.target`` (directory or s3:// prefix)."""
    target = config.dead_letter.target
    if target.startswith("s3://"):
        client = await open_s3(stack, config)
        return S3DeadLetterStore(client, target, timeout_s=config.s3.request_timeout_s)
    return LocalDeadLetterStore(Path(target), executor=executor)


async def open_elasticsearch(
    stack: contextlib.AsyncExitStack, config: Config, executor: Executor, obs: Observability
) -> ElasticsearchSink:
    """Create the Elasticsearch clients (closed by ``stack``) and the sink."""
    clients = ElasticsearchClients(config.elasticsearch)
    stack.push_async_callback(clients.aclose)
    dead_letters = await open_dead_letters(stack, config, executor)
    return ElasticsearchSink(
        clients, config.elasticsearch, dead_letters, metrics=obs.metrics, log=obs.log
    )


async def build_pipeline(
    stack: contextlib.AsyncExitStack,
    *,
    spec: SinkSpec,
    config: Config,
    reader: ByteReader,
    executor: Executor,
    obs: Observability,
    tenant_override: str | None = None,
) -> ObjectProcessor:
    """Build the sink named by ``spec`` and a pipeline feeding it from ``reader``.

    Raises:
        ConfigError, RecallIOError: The destination cannot be set up.
    """
    tenants = TenantResolver(config.tenants)

    def make(sink: Sink[ItemT], streams: StreamFactory[ItemT]) -> Pipeline[ItemT]:
        return Pipeline(
            sink=sink,
            streams=streams,
            reader=reader,
            tenants=tenants,
            features=config.features,
            decode=config.decode,
            metrics=obs.metrics,
            log=obs.log,
            tenant_override=tenant_override,
        )

    if spec.kind == "parquet":
        # Imported here: pyarrow must stay off the import path of the worker and the Lambda.
        from recall_fast.sinks.parquet import ParquetSink

        parquet = ParquetSink(spec.path or Path("recall-data"), executor=executor)
        stack.push_async_callback(parquet.aclose)
        return make(parquet, DecoderFactory(config, executor))
    processor = ProcessorFactory(config, executor)
    if spec.kind == "ndjson":
        ndjson = NdjsonSink(spec.path, executor=executor)
        stack.push_async_callback(ndjson.aclose)
        return make(ndjson, processor)
    if spec.kind == "null":
        return make(NullSink(), processor)
    return make(await open_elasticsearch(stack, config, executor, obs), processor)
