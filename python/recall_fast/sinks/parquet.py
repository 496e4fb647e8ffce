"""Parquet sink: the decoded, typed Arrow batches as Parquet, partitioned for query engines.

Stage: sink (the embedded default: the quick start needs no server). Layout::

    ROOT/tenant=<tenant>/dataset=zeek.<log_type>/day=YYYY-MM-DD/part-<object>-<n>.parquet

Batches arrive through the Arrow PyCapsule interface (``pa.record_batch(batch)`` imports the
native buffers without copying); the day comes from the ``ts`` column, cast to ``date32`` by
``pyarrow.compute``, and a batch spanning midnight is split by a vectorised filter per day (no
per-record Python). Rows without a ``ts`` (or log types without one) go to the Hive default
partition ``day=__HIVE_DEFAULT_PARTITION__``.

Files are written under a temporary name and renamed when the object is DONE; their names derive
from the object's identity (bucket, key, version), and finishing an object removes any older
parts of the same object in the partitions it wrote, so ingesting the same input twice yields
the same files, not duplicates. Small batches are buffered per partition up to
``row_group_rows`` so row groups stay large. Encoding and file I/O run in the executor.

Must not import clients or the native extension; pyarrow is imported here, lazily by callers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import threading
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Final

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from recall_fast.errors import RecallIOError
from recall_fast.types import DecodedBatch, ObjectContext, RejectedDocument, SinkInput

NULL_DAY: Final = "__HIVE_DEFAULT_PARTITION__"
_EPOCH_ORDINAL: Final = dt.date(1970, 1, 1).toordinal()
_SAFE_COMPONENT: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def day_name(days_since_epoch: int | None) -> str:
    """Render a ``date32`` value as ``YYYY-MM-DD`` (the null partition for None)."""
    if days_since_epoch is None:
        return NULL_DAY
    return dt.date.fromordinal(_EPOCH_ORDINAL + days_since_epoch).isoformat()


def split_by_day(batch: pa.RecordBatch, ts_column: str = "ts") -> list[tuple[str, pa.RecordBatch]]:
    """Split a batch by the UTC day of its timestamp column, vectorised.

    Args:
        batch: The decoded batch.
        ts_column: Name of the timestamp column.

    Returns:
        (day, rows of that day) pairs; a batch within one day is returned whole (no copy).
    """
    index = batch.schema.get_field_index(ts_column)
    if index < 0 or not pa.types.is_timestamp(batch.schema.field(index).type):
        return [(NULL_DAY, batch)]
    days = pc.cast(batch.column(index), pa.date32()).cast(pa.int32())
    if days.null_count == 0:
        bounds = pc.min_max(days)
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low == high:
            return [(day_name(low), batch)]
    out: list[tuple[str, pa.RecordBatch]] = []
    for value in pc.unique(days.filter(pc.is_valid(days))).to_pylist():
        out.append((day_name(value), batch.filter(pc.equal(days, value))))
    if days.null_count:
        out.append((NULL_DAY, batch.filter(pc.is_null(days))))
    return out


def safe_component(value: str) -> str:
    """Return ``value`` if it is a safe single path component, else ``unknown``."""
    return value if _SAFE_COMPONENT.fullmatch(value) else "unknown"


@dataclass
class _PartWriter:
    """One open part file of one partition, with its row buffer."""

    temp_path: Path
    final_path: Path
    schema: pa.Schema
    writer: pq.ParquetWriter
    buffer: list[pa.RecordBatch] = field(default_factory=list)
    buffered_rows: int = 0


@dataclass
class _ObjectFiles:
    """Everything one object is writing (guarded by its own lock: ranges write concurrently)."""

    digest: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    open: dict[Path, _PartWriter] = field(default_factory=dict)
    finished: list[_PartWriter] = field(default_factory=list)
    sequence: int = 0


class ParquetSink:
    """Writes decoded batches as partitioned Parquet files under ``root``."""

    consumes: ClassVar[SinkInput] = SinkInput.ARROW

    def __init__(
        self,
        root: Path,
        *,
        executor: Executor | None = None,
        compression: str = "zstd",
        row_group_rows: int = 128 * 1024,
    ) -> None:
        """Args: root: output directory (created); executor: where encoding and I/O run;
        compression: Parquet codec; row_group_rows: rows buffered per partition before a row
        group is written."""
        self._root = root
        self._executor = executor
        self._compression = compression
        self._row_group_rows = row_group_rows
        self._objects: dict[int, _ObjectFiles] = {}
        self.files_written = 0

    def _files(self, ctx: ObjectContext) -> _ObjectFiles:
        files = self._objects.get(id(ctx))
        if files is None:
            files = self._objects[id(ctx)] = _ObjectFiles(digest=ctx.ref.digest)
        return files

    async def write(self, item: DecodedBatch, ctx: ObjectContext) -> None:
        """Write one decoded batch (in the executor).

        Raises:
            RecallIOError: A file cannot be written.
        """
        batch = pa.record_batch(item)
        dataset = f"zeek.{safe_component(str(item.log_type))}"
        base = self._root / f"tenant={ctx.tenant}" / f"dataset={dataset}"
        files = self._files(ctx)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._write_sync, files, base, batch)
        ctx.indexed(batch.num_rows)

    def _write_sync(self, files: _ObjectFiles, base: Path, batch: pa.RecordBatch) -> None:
        try:
            with files.lock:
                for day, rows in split_by_day(batch):
                    self._append(files, base / f"day={day}", rows)
        except OSError as error:
            raise RecallIOError(f"parquet write under {base}: {error}") from error

    def _append(self, files: _ObjectFiles, directory: Path, rows: pa.RecordBatch) -> None:
        part = files.open.get(directory)
        if part is not None and not part.schema.equals(rows.schema, check_metadata=False):
            self._flush(part)
            part.writer.close()
            files.finished.append(part)
            part = None
        if part is None:
            directory.mkdir(parents=True, exist_ok=True)
            name = f"part-{files.digest}-{files.sequence:04d}.parquet"
            files.sequence += 1
            temp = directory / f".{name}.tmp"
            writer = pq.ParquetWriter(temp, rows.schema, compression=self._compression)
            part = files.open[directory] = _PartWriter(temp, directory / name, rows.schema, writer)
        part.buffer.append(rows)
        part.buffered_rows += rows.num_rows
        if part.buffered_rows >= self._row_group_rows:
            self._flush(part)

    @staticmethod
    def _flush(part: _PartWriter) -> None:
        if part.buffer:
            part.writer.write_table(pa.Table.from_batches(part.buffer, schema=part.schema))
            part.buffer.clear()
            part.buffered_rows = 0

    async def reject(self, documents: Sequence[RejectedDocument], ctx: ObjectContext) -> None:
        """Documents too large for any bulk body cannot be written here: count them as
        dead-lettered (the summary and metrics show them)."""
        ctx.dead_lettered(len(documents))

    async def end_object(self, ctx: ObjectContext) -> None:
        """Close the object's files and publish them (rename), replacing older parts.

        Raises:
            RecallIOError: Closing or renaming failed.
        """
        files = self._objects.pop(id(ctx), None)
        if files is None:
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._publish, files)

    def _publish(self, files: _ObjectFiles) -> None:
        try:
            with files.lock:
                for part in files.open.values():
                    self._flush(part)
                    part.writer.close()
                    files.finished.append(part)
                files.open.clear()
                keep = {p.final_path for p in files.finished}
                for directory in {p.final_path.parent for p in files.finished}:
                    for old in directory.glob(f"part-{files.digest}-*.parquet"):
                        if old not in keep:
                            old.unlink()
                for part in files.finished:
                    part.temp_path.replace(part.final_path)
                self.files_written += len(files.finished)
        except OSError as error:
            raise RecallIOError(f"parquet publish: {error}") from error

    async def abort_object(self, ctx: ObjectContext) -> None:
        """Close and delete the object's unpublished files."""
        files = self._objects.pop(id(ctx), None)
        if files is None:
            return
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._discard, files)

    @staticmethod
    def _discard(files: _ObjectFiles) -> None:
        with files.lock:
            for part in [*files.open.values(), *files.finished]:
                try:
                    part.writer.close()
                except (OSError, pa.ArrowException):
                    pass
                part.temp_path.unlink(missing_ok=True)
            files.open.clear()
            files.finished.clear()

    async def aclose(self) -> None:
        """Nothing stays open between objects."""
