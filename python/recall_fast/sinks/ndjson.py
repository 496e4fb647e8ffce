"""NDJSON sink: the normalised documents, one JSON object per line, to a file or stdout.

Stage: sink. Takes the fused processor's bulk bodies and writes their document lines (what
would be indexed, ids excluded). Whole bodies are written under a lock, so lines of concurrent
objects never interleave inside a line; writes run in the executor (a pipe to a slow reader must
not block the event loop).

Must not import clients or the native extension.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import BinaryIO, ClassVar

from recall_fast.errors import RecallIOError
from recall_fast.sinks.base import document_lines
from recall_fast.types import BulkChunk, ObjectContext, RejectedDocument, SinkInput


class NdjsonSink:
    """Appends document lines to one file (or stdout)."""

    consumes: ClassVar[SinkInput] = SinkInput.BULK

    def __init__(self, path: Path | None, *, executor: Executor | None = None) -> None:
        """Open the destination.

        Args:
            path: Output file (truncated), or None for stdout.
            executor: Where blocking writes run (the loop's default when None).

        Raises:
            RecallIOError: The file cannot be created.
        """
        self._executor = executor
        self._lock = asyncio.Lock()
        self._owns = path is not None
        try:
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            self._out: BinaryIO = path.open("wb") if path is not None else sys.stdout.buffer
        except OSError as error:
            raise RecallIOError(f"{path}: {error.strerror or error}") from error

    async def write(self, item: BulkChunk, ctx: ObjectContext) -> None:
        """Write the chunk's documents.

        Raises:
            RecallIOError: The write failed (disk full, closed pipe).
        """
        data = document_lines(bytes(item.body))
        loop = asyncio.get_running_loop()
        async with self._lock:
            try:
                await loop.run_in_executor(self._executor, self._out.write, data)
            except OSError as error:
                raise RecallIOError(f"ndjson write failed: {error.strerror or error}") from error
        ctx.indexed(item.n_docs)

    async def reject(self, documents: Sequence[RejectedDocument], ctx: ObjectContext) -> None:
        """Documents too large for any bulk body cannot be written here: count them as
        dead-lettered (the summary and metrics show them)."""
        ctx.dead_lettered(len(documents))

    async def end_object(self, ctx: ObjectContext) -> None:
        """Flush so a finished object is visible to readers of the file."""
        loop = asyncio.get_running_loop()
        async with self._lock:
            await loop.run_in_executor(self._executor, self._out.flush)

    async def abort_object(self, ctx: ObjectContext) -> None:
        """Written lines cannot be taken back; the object's failure is in the summary."""

    async def aclose(self) -> None:
        """Flush and close the file (stdout is flushed, not closed)."""
        loop = asyncio.get_running_loop()
        async with self._lock:
            await loop.run_in_executor(self._executor, self._out.flush)
            if self._owns:
                self._out.close()
