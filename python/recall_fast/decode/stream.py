"""Drives one native decoder or fused processor over an object's chunks, in the executor.

Stage: decode. The pipeline reads an object in MiB chunks and calls :meth:`ObjectStream.feed`
for each; the native call runs in the pipeline's own thread pool (sized by config) with the GIL
released, so several objects decode on several cores while the event loop keeps the network
busy. One object's calls are strictly sequential (feed, feed, ..., finish): the native state is
never touched by two threads at once.

Two kinds of native state exist, and a factory here makes each for an object:
- the fused processor (decode -> normalise -> encode): :class:`BulkChunk` bodies for
  Elasticsearch, NDJSON and the null sink;
- the decoder: typed Arrow batches (:class:`DecodedBatch`) for the Parquet sink.

Must not import clients or the orchestration layer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from recall_fast.config import Config, TenantFeatures
from recall_fast.errors import ConfigError
from recall_fast.types import BulkChunk, DecodedBatch, ObjectRef, RejectedDocument

ItemT = TypeVar("ItemT")
ItemT_co = TypeVar("ItemT_co", covariant=True)

#: Record numbers of a split object: range ``i`` numbers its records from ``i << RANGE_SHIFT``.
#: 2**40 records per range is far beyond any byte range's line count, and 2**23 ranges per
#: object far beyond any object, so numbers never collide. The split plan depends only on the
#: object's size and ``range_bytes``, so a redelivered object gets the same ids.
RANGE_SHIFT = 40


class NativeFeeder(Protocol[ItemT_co]):
    """What the pipeline needs of a native decoder/processor instance."""

    def feed(self, data: bytes) -> Sequence[ItemT_co]:
        """Consume a chunk; return the output completed by it."""
        ...

    def finish(self) -> Sequence[ItemT_co]:
        """Flush the rest at the end of the object."""
        ...


@dataclass(frozen=True, slots=True)
class RangePart:
    """One byte range of a split object."""

    index: int
    start: int
    end: int
    header: bytes | None
    """The TSV header block read from the object's start (None for JSON and the first range)."""

    @property
    def first_record(self) -> int:
        """Record number of the range's first record (see :data:`RANGE_SHIFT`)."""
        return self.index << RANGE_SHIFT


class ObjectStream(Generic[ItemT]):
    """One object's (or one range's) native state, driven in the executor."""

    def __init__(
        self,
        native: NativeFeeder[ItemT],
        executor: Executor,
        *,
        records_of: Callable[[ItemT], int],
        first_record_of: Callable[[ItemT], int],
        log_type_of: Callable[[ItemT], str],
        quarantined_of: Callable[[], int],
        prime: bytes | None = None,
        drain: Callable[[], Sequence[ItemT]] | None = None,
        take_rejected: Callable[[], Sequence[RejectedDocument]] | None = None,
        decoded_of: Callable[[], int | None] | None = None,
    ) -> None:
        """Args: native: the decoder/processor; executor: the pipeline's thread pool;
        records_of: records in one output item; first_record_of: record number of an item's
        first record; log_type_of: log type of an item;
        quarantined_of: lines quarantined so far; prime: bytes fed before the data (a
        range's TSV header block) whose output, if any, is returned by the first feed; drain:
        output completed before a decode error (salvaged after ``feed``/``finish`` raised);
        take_rejected: documents the encoder could not fit in a body since the last call;
        decoded_of: records the native side decoded so far (for reconciliation)."""
        self._native = native
        self._executor = executor
        self._records_of = records_of
        self._first_record_of = first_record_of
        self._log_type_of = log_type_of
        self._quarantined_of = quarantined_of
        self._prime = prime
        self._drain = drain
        self._take_rejected = take_rejected
        self._decoded_of = decoded_of

    async def feed(self, data: bytes) -> Sequence[ItemT]:
        """Decode one chunk in the executor.

        Raises:
            DecodeError, DecompressError, LimitExceededError: The input is not a usable log.
            InternalError: A bug in the native code (a caught panic).
        """
        loop = asyncio.get_running_loop()
        if self._prime is not None:
            prime, self._prime = self._prime, None
            data = prime + data
        return await loop.run_in_executor(self._executor, self._native.feed, data)

    async def finish(self) -> Sequence[ItemT]:
        """Flush at the end of the object.

        Raises:
            DecodeError, DecompressError: The stream ended in the middle of a record or frame.
        """
        loop = asyncio.get_running_loop()
        if self._prime is not None:
            out = await self.feed(b"")
            return [*out, *await loop.run_in_executor(self._executor, self._native.finish)]
        return await loop.run_in_executor(self._executor, self._native.finish)

    def records(self, item: ItemT) -> int:
        """Records in one output item."""
        return self._records_of(item)

    def first_record(self, item: ItemT) -> int:
        """Absolute record number of one output item's first record."""
        return self._first_record_of(item)

    def log_type(self, item: ItemT) -> str:
        """Log type of one output item."""
        return self._log_type_of(item)

    def quarantined(self) -> int:
        """Lines quarantined so far."""
        return self._quarantined_of()

    def drain(self) -> Sequence[ItemT]:
        """Output of the records decoded before a failure (call only after feed/finish raised)."""
        return self._drain() if self._drain is not None else ()

    def decoded(self) -> int | None:
        """Records the native side decoded so far (None when it does not say)."""
        return self._decoded_of() if self._decoded_of is not None else None

    def take_rejected(self) -> Sequence[RejectedDocument]:
        """Documents the encoder rejected since the last call (none for plain decoders)."""
        return self._take_rejected() if self._take_rejected is not None else ()


class StreamFactory(Protocol[ItemT]):
    """Makes the native state for one object (or one byte range of it)."""

    @property
    def supports_ranges(self) -> bool:
        """Whether byte ranges of one object may be decoded separately."""
        ...

    def __call__(
        self, ref: ObjectRef, tenant: str, features: TenantFeatures, part: RangePart | None
    ) -> ObjectStream[ItemT]:
        """Create the stream.

        Raises:
            ConfigError: Invalid tenant, index pattern or option for the native side.
        """
        ...


def log_type_from_key(key: str) -> str | None:
    """Guess the log type from an object key's file name (``.../conn.10:00-11:00.log.gz``).

    Used only when the data itself does not name it (no ``#path`` line, no ``_path`` key).
    """
    stem = key.rsplit("/", 1)[-1].split(".", 1)[0]
    return stem if stem.isidentifier() and stem.islower() else None


def _stat(native: object, *names: str) -> Callable[[], int | None]:
    """Read a counter from a native object's ``stats`` dict (first name present)."""

    def read() -> int | None:
        stats = getattr(native, "stats", None)
        if isinstance(stats, dict):
            for name in names:
                if name in stats:
                    return int(stats[name])
        return None

    return read


def _quarantine_count(native: object) -> Callable[[], int]:
    """Read the quarantined-line count from a native object's ``stats``."""
    read = _stat(native, "lines_quarantined", "quarantined")
    return lambda: read() or 0


def _rejected(raw: Sequence[Mapping[str, object]]) -> list[RejectedDocument]:
    """Convert the processor's rejected-document dicts (record, id, reason)."""
    return [
        RejectedDocument(
            record=int(str(r.get("record", 0))),
            doc_id=str(r.get("id", "")),
            reason=str(r.get("reason", "")),
        )
        for r in raw
    ]


class ProcessorFactory:
    """Fused decode -> normalise -> encode per object: bulk bodies for bulk sinks."""

    def __init__(self, config: Config, executor: Executor) -> None:
        """Args: config: decode and Elasticsearch options; executor: the pipeline's pool.

        Raises:
            ConfigError: A feature flag names an enrichment the processor does not know
                (checked here, at start-up, for every tenant: a typo must fail the start, not
                the first object of that tenant, and never leave the field in its documents).
        """
        from recall_fast import _native

        known = {name for name, _ in _native.known_enrichments()}
        flags = config.features
        for name, features in [("default", flags.default), *flags.tenants.items()]:
            unknown = sorted(features.disabled_enrichments - known)
            if unknown:
                raise ConfigError(
                    f"features.{name}.disabled_enrichments: unknown enrichment(s) {unknown}; "
                    f"known: {sorted(known)}"
                )
        self._config = config
        self._executor = executor

    @property
    def supports_ranges(self) -> bool:
        """The processor takes ``first_record`` and ``header`` for a range."""
        return True

    def __call__(
        self, ref: ObjectRef, tenant: str, features: TenantFeatures, part: RangePart | None
    ) -> ObjectStream[BulkChunk]:
        """Create a processor for one object (or range).

        The tenant's ``disabled_enrichments`` flags leave those computed fields out of its
        documents (see ``_native.known_enrichments()``).

        Raises:
            ConfigError: The native side refused tenant, index pattern or options.
        """
        from recall_fast import _native

        es = self._config.elasticsearch
        decode = self._config.decode
        processor = _native.ZeekProcessor(
            tenant,
            ref.bucket,
            ref.key,
            ref.version,
            format=decode.format,
            compression=decode.compression,
            batch_rows=decode.batch_rows,
            max_line_bytes=decode.max_line_bytes,
            max_columns=decode.max_columns,
            max_decompressed_bytes=decode.decompressed_cap,
            max_ratio=decode.ratio_cap,
            max_chunk_bytes=es.max_chunk_bytes,
            max_chunk_docs=es.max_chunk_docs,
            action=es.action,
            index_pattern=es.index_pattern,
            first_record=part.first_record if part is not None else 0,
            header=part.header if part is not None else None,
            disabled_enrichments=sorted(features.disabled_enrichments),
        )
        return ObjectStream(
            processor,
            self._executor,
            records_of=lambda c: int(c.n_docs),
            first_record_of=lambda c: int(c.first_record),
            log_type_of=lambda c: str(getattr(c, "log_type", "")),
            quarantined_of=_quarantine_count(processor),
            drain=processor.drain,
            take_rejected=lambda: _rejected(processor.take_rejected()),
            decoded_of=_stat(processor, "records"),
        )


class DecoderFactory:
    """Decoder per object: typed Arrow batches for the Parquet sink."""

    def __init__(self, config: Config, executor: Executor) -> None:
        """Args: config: decode options; executor: the pipeline's pool."""
        self._config = config
        self._executor = executor

    @property
    def supports_ranges(self) -> bool:
        """Batches carry no ids, so a range only needs its header block fed first."""
        return True

    def __call__(
        self, ref: ObjectRef, tenant: str, features: TenantFeatures, part: RangePart | None
    ) -> ObjectStream[DecodedBatch]:
        """Create a decoder for one object (or range)."""
        from recall_fast import _native

        decode = self._config.decode
        decoder = _native.ZeekDecoder(
            format=decode.format,
            compression=decode.compression,
            batch_rows=decode.batch_rows,
            log_type=log_type_from_key(ref.key),
            max_line_bytes=decode.max_line_bytes,
            max_decompressed_bytes=decode.decompressed_cap,
            max_ratio=decode.ratio_cap,
            max_columns=decode.max_columns,
            # The pool already decodes several objects on every core: a second thread per
            # decoder would only add hand-off cost.
            inflate_thread=False,
        )
        # The decoder numbers records from 0 within its input; a range's records are numbered
        # from the range's base (see RANGE_SHIFT), like the processor does with first_record.
        base = part.first_record if part is not None else 0
        return ObjectStream(
            decoder,
            self._executor,
            records_of=lambda b: int(b.num_rows),
            first_record_of=lambda b: base + int(b.first_record),
            log_type_of=lambda b: b.log_type or "",
            quarantined_of=_quarantine_count(decoder),
            prime=part.header if part is not None else None,
            drain=decoder.take_batches,
            decoded_of=_stat(decoder, "records"),
        )
