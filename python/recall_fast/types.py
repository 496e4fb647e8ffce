"""Protocols and value types shared by every pipeline stage.

Stage: none (vocabulary). Sources produce :class:`Delivery` values (an :class:`ObjectRef` plus
an :class:`AckHandle`); the pipeline decodes each object with the native extension and hands
its output (:class:`BulkChunk` bodies or :class:`DecodedBatch` Arrow batches) to a
:class:`Sink`; the object's :class:`ObjectContext` accounts for every document so that the
ack handle is settled with an honest :class:`Outcome`.

Must not import clients, the native extension or any other recall_fast module except errors.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import hashlib
from collections.abc import AsyncGenerator, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from recall_fast.config import TenantFeatures


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """Where an input object lives and which version of it is meant.

    ``version`` (S3 version id, else the ETag without quotes; empty for local files) is part
    of every document id, so a redelivered object overwrites its documents instead of adding
    new ones, while a rewritten object gets new ids.
    """

    bucket: str
    key: str
    version: str = ""
    size: int | None = None
    path: Path | None = None
    version_id: str | None = None
    """The S3 version id to read, when the notification named one (versioned buckets)."""

    @property
    def uri(self) -> str:
        """``s3://bucket/key`` for S3 objects, the file path for local ones."""
        if self.path is not None:
            return str(self.path)
        return f"s3://{self.bucket}/{self.key}"

    @property
    def digest(self) -> str:
        """A short stable digest of (bucket, key, version), for file names of derived output."""
        raw = f"{self.bucket}\0{self.key}\0{self.version}".encode()
        return hashlib.sha256(raw).hexdigest()[:16]


class OutcomeKind(enum.StrEnum):
    """How an object ended, which decides what happens to its message."""

    DONE = "done"
    """Every document indexed, dead-lettered or deliberately skipped: delete the message."""
    RETRY = "retry"
    """Transient failure (Elasticsearch or S3 unavailable): retry later with a growing delay."""
    REJECT = "reject"
    """Permanent failure (not a Zeek log, unknown tenant, corrupt stream): dead-letter now."""
    PARTIAL = "partial"
    """Stopped at a checkpoint (a time budget ran out); ``Outcome.resume`` says where to go on.
    Everything before the checkpoint is settled."""


@dataclass(frozen=True, slots=True)
class Resume:
    """Where to continue an object that was stopped at a checkpoint.

    ``parts`` maps a part (0 for an unsplit object, the range index of a split one) to the
    absolute record number from which output is still wanted; parts not listed are finished or
    belong to another work unit. Output items wholly below that number are dropped on resume; an
    item straddling it is sent whole (deterministic ids: the overlap overwrites, never doubles).
    """

    parts: Mapping[int, int]
    split: bool
    hops: int = 0
    """How many continuations led here (bounds a chain that makes no progress)."""


@dataclass(slots=True)
class ObjectCounts:
    """Counters of one object (mutable while it is processed, then frozen into an Outcome).

    Reconciliation: ``records = documents_indexed + documents_dead_lettered +
    documents_skipped`` once an object is DONE; quarantined lines never became records.
    """

    bytes_in: int = 0
    records: int = 0
    documents_indexed: int = 0
    documents_already_indexed: int = 0
    documents_dead_lettered: int = 0
    documents_skipped: int = 0
    documents_retried: int = 0
    lines_quarantined: int = 0

    def add(self, other: ObjectCounts) -> None:
        """Add ``other`` field by field (summaries over many objects)."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, int]:
        """Return the counters as a plain dict (JSON summaries, log lines)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The end of one object: its kind, counters and, on failure, why."""

    kind: OutcomeKind
    ref: ObjectRef
    tenant: str | None
    counts: ObjectCounts
    reason: str = ""
    error_type: str = ""
    resume: Resume | None = None


@runtime_checkable
class AckHandle(Protocol):
    """Settles the unit of delivery an object came in (an SQS message, a CLI summary)."""

    async def settle(self, outcome: Outcome) -> None:
        """Record the outcome; the message is acted on once all its objects are settled."""
        ...


@dataclass(frozen=True, slots=True)
class Delivery:
    """One object to process and the handle to settle when it is done."""

    ref: ObjectRef
    ack: AckHandle
    deadline: float | None = None
    """Event-loop time (``loop.time()``) by which processing must end: a queue message's
    maximum hold time. None: no limit."""
    resume: Resume | None = None
    """Continue a checkpointed object instead of starting it from the beginning."""


class ByteReader(Protocol):
    """Streams the bytes of objects (files, S3) in chunks; never the whole object at once."""

    def stream(
        self, ref: ObjectRef, start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        """Yield the bytes of ``ref`` in ``[start, end)`` (to the end when ``end`` is None).

        Raises:
            RecallIOError: The object cannot be read (missing, permission, I/O).
            OSError: Transient network failures (timeouts, connection resets).
        """
        ...

    async def size(self, ref: ObjectRef) -> int:
        """Return the object's size in bytes (a stat or HEAD when ``ref.size`` is unknown).

        Raises:
            RecallIOError: The object does not exist or cannot be read.
        """
        ...


class Source(Protocol):
    """Where objects come from: local paths, an S3 prefix, an SQS queue."""

    @property
    def reader(self) -> ByteReader:
        """The reader that streams the bytes of this source's objects."""
        ...

    def deliveries(self) -> AsyncGenerator[Delivery, None]:
        """Yield objects to process, each with its ack handle; finite for batch sources."""
        ...


class ArrowArrayExportable(Protocol):
    """Anything exporting one Arrow array/record batch through the PyCapsule interface."""

    def __arrow_c_array__(self, requested_schema: object | None = None) -> tuple[object, object]:
        """Return the (schema, array) capsules."""
        ...


class DecodedBatch(ArrowArrayExportable, Protocol):
    """A typed Arrow record batch of one log type, as the native decoder produces it."""

    @property
    def log_type(self) -> str | None:
        """The Zeek log type (``conn``, ``dns``...), from ``#path``, ``_path`` or the key."""
        ...

    @property
    def first_record(self) -> int:
        """Record number of the batch's first row within its object."""
        ...

    @property
    def num_rows(self) -> int:
        """Rows in the batch."""
        ...


class BulkChunk(Protocol):
    """A pre-encoded Elasticsearch ``_bulk`` body (action line + document line per record)."""

    @property
    def body(self) -> bytes | memoryview:
        """The NDJSON body, ending with a newline (the native chunk's is a read-only
        ``memoryview`` of its buffer, no copy; ``bytes(body)`` when bytes are needed)."""
        ...

    @property
    def n_docs(self) -> int:
        """Number of documents (two lines each) in the body."""
        ...

    @property
    def first_record(self) -> int:
        """Record number of the first document within its object."""
        ...


@dataclass(frozen=True, slots=True)
class RejectedDocument:
    """A record the encoder could not put in any body (larger than ``max_chunk_bytes``)."""

    record: int
    doc_id: str
    reason: str


ItemT = TypeVar("ItemT")
ItemT_contra = TypeVar("ItemT_contra", contravariant=True)


class SinkInput(enum.StrEnum):
    """What a sink consumes, which decides how objects are decoded for it."""

    BULK = "bulk"
    """Encoded bulk bodies from the fused native processor (Elasticsearch, NDJSON, null)."""
    ARROW = "arrow"
    """Typed Arrow batches from the native decoder (Parquet)."""


class Sink(Protocol[ItemT_contra]):
    """Where decoded output goes. Sinks account for documents on the object's context.

    ``write`` may wait (backpressure: a slow Elasticsearch slows decoding and thereby reading);
    work it starts in the background belongs to the object's task group (``ctx.spawn``), so
    an object is complete when its task group is.
    """

    consumes: ClassVar[SinkInput]

    async def write(self, item: ItemT_contra, ctx: ObjectContext) -> None:
        """Accept one item of the object; may block until there is room."""
        ...

    async def reject(self, documents: Sequence[RejectedDocument], ctx: ObjectContext) -> None:
        """Settle documents the encoder could not encode (dead-letter them where possible)."""
        ...

    async def end_object(self, ctx: ObjectContext) -> None:
        """Called once every item of the object was written and has settled."""
        ...

    async def abort_object(self, ctx: ObjectContext) -> None:
        """Called instead of ``end_object`` when the object failed; drop partial output."""
        ...


@dataclass(slots=True)
class ObjectContext:
    """Per-object state shared by the pipeline and the sink.

    Accounting is by document: the pipeline adds each decoded batch's records; the sink
    settles documents as indexed, dead-lettered or skipped, or marks the object failed. The
    object is DONE only when nothing is left unsettled and nothing failed.
    """

    ref: ObjectRef
    tenant: str
    features: TenantFeatures
    counts: ObjectCounts = field(default_factory=ObjectCounts)
    failure: str | None = None
    failure_type: str = ""
    documents_submitted: int = 0
    progress: dict[int, int] = field(default_factory=dict)
    """Per unfinished part: the record number after the last item handed to the sink."""
    finished_parts: set[int] = field(default_factory=set)
    stopped: bool = False
    """Processing stopped at a checkpoint (see :class:`Resume`)."""
    _task_group: asyncio.TaskGroup | None = None

    def bind(self, task_group: asyncio.TaskGroup) -> None:
        """Attach the object's task group (done by the pipeline before the first write)."""
        self._task_group = task_group

    def spawn(self, coro: Coroutine[object, object, None]) -> None:
        """Run background work of this object inside its task group.

        Raises:
            RuntimeError: The context is not bound to a task group (a pipeline bug).
        """
        if self._task_group is None:
            coro.close()
            raise RuntimeError("ObjectContext.spawn before bind()")
        self._task_group.create_task(coro)

    def submitted(self, n_docs: int) -> None:
        """Count documents handed to the sink (they must all settle)."""
        self.documents_submitted += n_docs

    def indexed(self, n_docs: int, *, already: int = 0) -> None:
        """Settle documents as indexed (``already`` of them existed: 409 on create)."""
        self.counts.documents_indexed += n_docs
        self.counts.documents_already_indexed += already

    def dead_lettered(self, n_docs: int) -> None:
        """Settle documents stored in the dead-letter store."""
        self.counts.documents_dead_lettered += n_docs

    def skipped(self, n_docs: int) -> None:
        """Settle documents deliberately not ingested (a feature flag disabled them)."""
        self.counts.documents_skipped += n_docs

    def fail(self, reason: str, error_type: str = "transient") -> None:
        """Mark the object failed (transient); the first reason wins."""
        if self.failure is None:
            self.failure = reason
            self.failure_type = error_type

    @property
    def unsettled(self) -> int:
        """Documents handed to the sink and not yet indexed, dead-lettered or skipped."""
        c = self.counts
        return self.documents_submitted - (
            c.documents_indexed + c.documents_dead_lettered + c.documents_skipped
        )
