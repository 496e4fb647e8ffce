"""Decoding Zeek logs into typed Arrow batches (native, interpreter released).

Stage: decode. :class:`ZeekDecoder` is the push decoder (feed chunks in any format and
compression, get batches); :func:`read_zeek` streams a file or bytes lazily. Batches and
streams implement the Arrow PyCapsule interface, so ``pyarrow.record_batch(batch)``,
``pyarrow.table(read_zeek(path))`` and ``polars.from_arrow(...)`` share the decoder's buffers
without copies. Nothing here imports pyarrow or polars.

Must not import the orchestration layer or any client.
"""

from __future__ import annotations

from recall_fast._native import DecodedBatch, ZeekDecoder, ZeekStream, read_zeek

__all__ = ["DecodedBatch", "ZeekDecoder", "ZeekStream", "read_zeek"]
