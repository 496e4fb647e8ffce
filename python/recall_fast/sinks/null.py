"""The null sink: accepts bulk bodies and drops them (benchmarks of everything before a sink).

Stage: sink. Documents count as indexed so the run's counts reconcile exactly as with a real
sink. Must not import clients or the native extension.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from recall_fast.types import BulkChunk, ObjectContext, RejectedDocument, SinkInput


class NullSink:
    """Counts documents and bytes, keeps nothing."""

    consumes: ClassVar[SinkInput] = SinkInput.BULK

    def __init__(self) -> None:
        """Start with zero counts."""
        self.documents = 0
        self.body_bytes = 0

    async def write(self, item: BulkChunk, ctx: ObjectContext) -> None:
        """Count the chunk's documents as delivered."""
        self.documents += item.n_docs
        self.body_bytes += len(item.body)
        ctx.indexed(item.n_docs)

    async def reject(self, documents: Sequence[RejectedDocument], ctx: ObjectContext) -> None:
        """Documents too large for any bulk body cannot be written here: count them as
        dead-lettered (the summary and metrics show them)."""
        ctx.dead_lettered(len(documents))

    async def end_object(self, ctx: ObjectContext) -> None:
        """Nothing to finalise."""

    async def abort_object(self, ctx: ObjectContext) -> None:
        """Nothing to drop."""

    async def aclose(self) -> None:
        """Nothing to close."""
