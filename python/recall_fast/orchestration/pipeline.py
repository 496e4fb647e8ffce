"""The per-object pipeline: read -> decode (executor) -> sink, bounded at every step.

Stage: orchestration. For each object:

1. its tenant comes from the key (or a fixed override) and is validated; an object without a
   valid tenant is REJECTed before a byte is read, so it can never reach a sink;
2. a reader task streams the bytes in MiB chunks into a small bounded queue; the decode loop
   feeds each chunk to the native stream in the executor and hands every output item to the
   sink, whose ``write`` waits while the sink is full. A slow sink therefore stops the decode
   loop, which stops draining the queue, which stops the reader: memory stays bounded;
3. a large uncompressed object is split into line-aligned byte ranges decoded concurrently
   (``sources/base.py``);
4. all background work of the object (the sink's requests) lives in the object's task group;
   when it is done, :func:`~recall_fast.orchestration.acks.settle_outcome` decides DONE or
   RETRY; exceptions are classified here, and only here, into RETRY (transient) and REJECT
   (the object can never succeed).

Must not import clients; the native extension is reached only through the stream factory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Sequence
from typing import Final, Generic, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from recall_fast.config import DecodeConfig, FeatureFlags
from recall_fast.decode.stream import ObjectStream, RangePart, StreamFactory
from recall_fast.errors import (
    ConfigError,
    DecodeError,
    DecompressError,
    InternalError,
    LimitExceededError,
    RecallError,
)
from recall_fast.metrics import Metrics, RateLimitedLogger
from recall_fast.orchestration.acks import settle_outcome
from recall_fast.sources.base import HEAD_BYTES, aligned_range, plan_ranges, sniff, tsv_header_block
from recall_fast.sources.events import NotificationError, TenantRejection, TenantResolver
from recall_fast.sources.s3 import ObjectGoneError
from recall_fast.types import (
    ByteReader,
    Delivery,
    ObjectContext,
    ObjectCounts,
    ObjectRef,
    Outcome,
    OutcomeKind,
    Resume,
    Sink,
    Source,
)

ItemT = TypeVar("ItemT")

#: Exceptions meaning the object can never succeed (dead-letter it now), with their error type.
PERMANENT_ERRORS: Final[tuple[tuple[type[BaseException], str], ...]] = (
    (DecompressError, "corrupt_compressed_stream"),
    (DecodeError, "not_a_zeek_log"),
    (LimitExceededError, "limit_exceeded"),
    (ObjectGoneError, "object_gone"),
    (NotificationError, "not_a_notification"),
    (ConfigError, "config"),
    (InternalError, "internal"),
)
#: Exceptions meaning "try again later" (network, throttling, I/O).
TRANSIENT_ERRORS: Final = (OSError, TimeoutError, ClientError, BotoCoreError, RecallError)


class _ObjectFailed(Exception):
    """Raised inside an object's task group to stop it once the sink reported a failure."""


def _leaves(error: BaseException) -> list[BaseException]:
    """Flatten exception groups into their leaf exceptions."""
    if isinstance(error, BaseExceptionGroup):
        out: list[BaseException] = []
        for inner in error.exceptions:
            out.extend(_leaves(inner))
        return out
    return [error]


def classify(error: BaseException) -> tuple[OutcomeKind, str, str]:
    """Classify an exception that ended an object.

    Args:
        error: The exception (possibly an exception group from a task group).

    Returns:
        (kind, error type, reason): REJECT when any leaf is permanent, else RETRY. Unknown
        exception types count as transient with error type "unexpected" (retried, then
        dead-lettered by the queue's retry policy), so a bug cannot lose a message.
    """
    leaves = _leaves(error)
    for leaf in leaves:
        for cls, error_type in PERMANENT_ERRORS:
            if isinstance(leaf, cls):
                return OutcomeKind.REJECT, error_type, f"{type(leaf).__name__}: {leaf}"
    first = next((e for e in leaves if not isinstance(e, _ObjectFailed)), leaves[0])
    if isinstance(first, _ObjectFailed):
        return OutcomeKind.RETRY, "transient", str(first)
    error_type = "transient" if isinstance(first, TRANSIENT_ERRORS) else "unexpected"
    return OutcomeKind.RETRY, error_type, f"{type(first).__name__}: {first}"


class Pipeline(Generic[ItemT]):
    """Processes objects from any source into one sink."""

    def __init__(
        self,
        *,
        sink: Sink[ItemT],
        streams: StreamFactory[ItemT],
        reader: ByteReader,
        tenants: TenantResolver,
        features: FeatureFlags,
        decode: DecodeConfig,
        metrics: Metrics,
        log: RateLimitedLogger,
        tenant_override: str | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Args: sink: destination; streams: native stream factory matching the sink's input;
        reader: byte reader of the source; tenants: key -> tenant; features: per-tenant flags;
        decode: chunk/queue/range settings; metrics, log: observability; tenant_override: a
        fixed (already validated) tenant for every object instead of the key's; stop: when set,
        objects end at the next checkpoint with a PARTIAL outcome (a time budget ran out)."""
        self._sink = sink
        self._streams = streams
        self._reader = reader
        self._tenants = tenants
        self._features = features
        self._decode = decode
        self._metrics = metrics
        self._log = log
        self._tenant_override = tenant_override
        self._stop = stop

    async def run(self, source: Source, *, max_in_flight: int) -> None:
        """Process every delivery of a finite source, ``max_in_flight`` objects at a time.

        Each object's outcome goes to its delivery's ack handle; failures do not stop the run.
        """
        slots = asyncio.Semaphore(max_in_flight)

        async def one(delivery: Delivery) -> None:
            try:
                await self.handle(delivery)
            finally:
                slots.release()

        async with asyncio.TaskGroup() as group:
            async with contextlib.aclosing(source.deliveries()) as deliveries:
                async for delivery in deliveries:
                    await slots.acquire()
                    group.create_task(one(delivery))

    async def handle(self, delivery: Delivery) -> Outcome:
        """Process one delivery within its deadline and settle its ack handle.

        Returns:
            The outcome that was settled.
        """
        if delivery.deadline is None:
            outcome = await self.process(delivery.ref, delivery.resume)
        else:
            try:
                async with asyncio.timeout_at(delivery.deadline):
                    outcome = await self.process(delivery.ref, delivery.resume)
            except TimeoutError:
                outcome = Outcome(
                    OutcomeKind.RETRY,
                    delivery.ref,
                    None,
                    ObjectCounts(),
                    "held longer than queue.max_hold_s",
                    "max_hold",
                )
                self._metrics.objects.inc(outcome=outcome.kind.value)
        await delivery.ack.settle(outcome)
        return outcome

    def _tenant_of(self, ref: ObjectRef) -> str | TenantRejection:
        return self._tenant_override or self._tenants.resolve(ref.key)

    async def process(self, ref: ObjectRef, resume: Resume | None = None) -> Outcome:
        """Process one object to the end (or to a checkpoint) and return its outcome.

        Never raises for the object's own failures; cancellation propagates after partial
        output is dropped.

        Args:
            ref: The object.
            resume: Continue from a checkpoint instead of the beginning.

        Returns:
            DONE, RETRY, REJECT, or PARTIAL (stop event set) with ``resume``.
        """
        tenant = self._tenant_of(ref)
        if isinstance(tenant, TenantRejection):
            self._metrics.objects.inc(outcome=OutcomeKind.REJECT.value)
            self._log.error(
                "object.invalid_tenant",
                "object has no valid tenant",
                uri=ref.uri,
                reason=tenant.reason,
            )
            return Outcome(
                OutcomeKind.REJECT,
                ref,
                None,
                ObjectCounts(),
                f"invalid tenant: {tenant.reason}",
                "invalid_tenant",
            )
        ctx = ObjectContext(ref=ref, tenant=tenant, features=self._features.for_tenant(tenant))
        self._metrics.objects_in_flight.inc()
        try:
            outcome = await self._process(ctx, resume)
        finally:
            self._metrics.objects_in_flight.inc(-1)
        self._account(outcome, ctx)
        return outcome

    async def _process(self, ctx: ObjectContext, resume: Resume | None) -> Outcome:
        try:
            async with asyncio.TaskGroup() as group:
                ctx.bind(group)
                split = await self._decode_object(ctx, resume)
            outcome = settle_outcome(ctx)
            if ctx.counts.records == 0 and ctx.counts.lines_quarantined > 0:
                # Nothing in it parsed: not a Zeek log (or not one we can read). Retrying cannot
                # help; the dead-letter queue keeps it for a human.
                reason = f"no valid record: all {ctx.counts.lines_quarantined} lines quarantined"
                outcome = Outcome(
                    OutcomeKind.REJECT, ctx.ref, ctx.tenant, ctx.counts, reason, "not_a_zeek_log"
                )
                await self._sink.abort_object(ctx)
                return outcome
            if outcome.kind is OutcomeKind.DONE and ctx.stopped and ctx.progress:
                hops = resume.hops + 1 if resume is not None else 1
                checkpoint = Resume(parts=dict(ctx.progress), split=split, hops=hops)
                return Outcome(
                    OutcomeKind.PARTIAL, ctx.ref, ctx.tenant, ctx.counts, resume=checkpoint
                )
            if outcome.kind is OutcomeKind.DONE:
                await self._sink.end_object(ctx)
                return outcome
        except asyncio.CancelledError:
            await self._sink.abort_object(ctx)
            raise
        except Exception as error:  # classified here: retry or dead-letter, never lost
            kind, error_type, reason = classify(error)
            if ctx.failure is not None and kind is OutcomeKind.RETRY:
                reason, error_type = ctx.failure, ctx.failure_type
            if error_type == "unexpected":
                self._log.log(
                    logging.ERROR,
                    "object.unexpected",
                    "unexpected error",
                    uri=ctx.ref.uri,
                    error=repr(error),
                )
            outcome = Outcome(kind, ctx.ref, ctx.tenant, ctx.counts, reason, error_type)
        await self._sink.abort_object(ctx)
        return outcome

    def _account(self, outcome: Outcome, ctx: ObjectContext) -> None:
        """Update run-level metrics from a finished object."""
        c = ctx.counts
        self._metrics.objects.inc(outcome=outcome.kind.value)
        self._metrics.records.inc(c.records)
        self._metrics.bytes_in.inc(c.bytes_in)
        self._metrics.lines_quarantined.inc(c.lines_quarantined)
        self._metrics.documents_skipped.inc(c.documents_skipped)
        if outcome.kind in (OutcomeKind.RETRY, OutcomeKind.REJECT):
            self._log.warning(
                f"object.{outcome.kind.value}",
                "object failed",
                uri=ctx.ref.uri,
                tenant=ctx.tenant,
                error_type=outcome.error_type,
                reason=outcome.reason,
            )

    async def _plan(self, ref: ObjectRef, *, force: bool = False) -> list[RangePart] | None:
        """Split a large uncompressed object into line-aligned ranges, or None (stream it whole).

        Args:
            ref: The object.
            force: Split whatever the size threshold (resuming an object that was split).

        Raises:
            Errors of the reader.
        """
        threshold = self._decode.range_split_min_bytes
        if not force:
            if threshold <= 0 or self._decode.compression not in {"auto", "none"}:
                return None
            if not self._streams.supports_ranges:
                return None
        size = await self._reader.size(ref)
        if size < threshold and not force:
            return None
        head = bytearray()
        stream = self._reader.stream(ref, 0, min(size, HEAD_BYTES))
        async with contextlib.aclosing(stream):
            async for chunk in stream:
                head += chunk
        sniffed = sniff(bytes(head))
        if sniffed.compression != "none" or sniffed.format == "unknown":
            return None
        header = tsv_header_block(bytes(head)) if sniffed.format == "tsv" else None
        if sniffed.format == "tsv" and header is None:
            return None
        ranges = plan_ranges(size, self._decode.range_bytes)
        if len(ranges) < 2:
            return None
        return [
            RangePart(index=i, start=s, end=e, header=header if i > 0 else None)
            for i, (s, e) in enumerate(ranges)
        ]

    async def _decode_object(self, ctx: ObjectContext, resume: Resume | None) -> bool:
        """Decode the whole object (or its ranges, or what ``resume`` leaves) into the sink.

        Returns:
            Whether the object was split into ranges.
        """
        parts = await self._plan(ctx.ref, force=resume is not None and resume.split)
        if resume is not None and not resume.split:
            parts = None
        if parts is None:
            skip_below = resume.parts.get(0, 0) if resume is not None else 0
            if resume is not None and 0 not in resume.parts:
                return False
            ctx.progress[0] = skip_below
            stream = self._streams(ctx.ref, ctx.tenant, ctx.features, None)
            await self._decode_part(ctx, self._reader.stream(ctx.ref), stream, 0, skip_below)
            return False
        if resume is not None:
            parts = [p for p in parts if p.index in resume.parts]
        for part in parts:
            wanted = resume.parts[part.index] if resume is not None else 0
            ctx.progress[part.index] = max(part.first_record, wanted)
        room = asyncio.Semaphore(self._decode.effective_ranges_in_flight())

        async def one(part: RangePart) -> None:
            async with room:
                if self._stopping(ctx):
                    return
                stream = self._streams(ctx.ref, ctx.tenant, ctx.features, part)
                chunks = aligned_range(self._reader, ctx.ref, part.start, part.end)
                await self._decode_part(ctx, chunks, stream, part.index, ctx.progress[part.index])

        async with asyncio.TaskGroup() as group:
            for part in parts:
                group.create_task(one(part))
        return True

    def _stopping(self, ctx: ObjectContext) -> bool:
        """Check the stop event; once set, the object ends at a checkpoint."""
        if self._stop is not None and self._stop.is_set():
            ctx.stopped = True
        return ctx.stopped

    async def _decode_part(
        self,
        ctx: ObjectContext,
        chunks: AsyncGenerator[bytes, None],
        stream: ObjectStream[ItemT],
        part: int,
        skip_below: int,
    ) -> None:
        """Read ``chunks`` through a bounded queue, decode each and write the output.

        Stops when the stop event is set, checked before every feed and before every write to
        the sink (one feed can complete several bulk bodies, each a request of its own): the
        part then stays in ``ctx.progress`` (the checkpoint, which counts only what was
        written) instead of being marked finished. Requests already sent finish first.
        """
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=self._decode.queue_chunks)

        async def pump() -> None:
            async with contextlib.aclosing(chunks):
                async for chunk in chunks:
                    ctx.counts.bytes_in += len(chunk)
                    await queue.put(chunk)
            await queue.put(None)

        seen = 0  # records out of the native side: emitted, dropped before a resume, rejected
        async with asyncio.TaskGroup() as group:
            reader = group.create_task(pump())
            stopped = False
            while (chunk := await queue.get()) is not None:
                if self._stopping(ctx):
                    stopped = True
                    break
                items = await self._salvaging(stream.feed(chunk), stream, ctx, part, skip_below)
                seen += await self._reject(stream, ctx)
                seen += await self._emit(items, stream, ctx, part, skip_below)
                if ctx.stopped:  # set between two writes of this feed's output
                    stopped = True
                    break
            if stopped:
                reader.cancel()
            else:
                items = await self._salvaging(stream.finish(), stream, ctx, part, skip_below)
                seen += await self._reject(stream, ctx)
                seen += await self._emit(items, stream, ctx, part, skip_below)
                # Stopped between the final writes: the checkpoint covers the rest.
                if not ctx.stopped:
                    decoded = stream.decoded()
                    if decoded is not None and decoded != seen:
                        # Counts must reconcile; a mismatch is a bug that would lose records.
                        raise InternalError(
                            f"record count mismatch in part {part}: decoded {decoded}, "
                            f"handled {seen}"
                        )
                    ctx.finished_parts.add(part)
                    ctx.progress.pop(part, None)
        # Read only when no feed can still run in the executor (after a failure a cancelled
        # feed may, and the native state must not be touched by two threads).
        ctx.counts.lines_quarantined += stream.quarantined()

    async def _salvaging(
        self,
        call: Awaitable[Sequence[ItemT]],
        stream: ObjectStream[ItemT],
        ctx: ObjectContext,
        part: int,
        skip_below: int,
    ) -> Sequence[ItemT]:
        """Await a feed/finish; on a decode failure, first send what was decoded before it.

        A corrupt or truncated stream fails the object for good (dead-letter queue), but the
        records before the failure are real data: they are indexed (their ids are deterministic,
        so a later redrive overwrites them) before the error propagates.
        """
        try:
            return await call
        except (DecodeError, LimitExceededError):
            await self._reject(stream, ctx)
            await self._emit(stream.drain(), stream, ctx, part, skip_below)
            raise

    async def _reject(self, stream: ObjectStream[ItemT], ctx: ObjectContext) -> int:
        """Hand documents the encoder could not encode to the sink; returns how many."""
        rejected = stream.take_rejected()
        if rejected:
            ctx.counts.records += len(rejected)
            ctx.submitted(len(rejected))
            await self._sink.reject(rejected, ctx)
        return len(rejected)

    async def _emit(
        self,
        items: Sequence[ItemT],
        stream: ObjectStream[ItemT],
        ctx: ObjectContext,
        part: int,
        skip_below: int,
    ) -> int:
        """Account for output items and write the enabled ones to the sink.

        Items wholly below ``skip_below`` (before a resume checkpoint) were settled by an
        earlier run: they are dropped and not counted again. When the stop event is set, the
        remaining items are left unwritten (``ctx.stopped``; the part's checkpoint ends at the
        last item written, so a resumed run decodes them again).

        Returns:
            Records in ``items``, dropped ones included (for reconciliation).
        """
        seen = 0
        for item in items:
            if self._stopping(ctx):
                return seen
            n = stream.records(item)
            seen += n
            end = stream.first_record(item) + n
            if end <= skip_below:
                continue
            ctx.counts.records += n
            ctx.submitted(n)
            if not ctx.features.log_type_enabled(stream.log_type(item)):
                ctx.skipped(n)
            else:
                await self._sink.write(item, ctx)
                if ctx.failure is not None:
                    raise _ObjectFailed(ctx.failure)
            if part in ctx.progress:
                ctx.progress[part] = max(ctx.progress[part], end)
        return seen
