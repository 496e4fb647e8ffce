"""Byte-level helpers shared by the local and S3 sources: sniffing, ranges, line alignment.

Stage: source. Large uncompressed objects are split into byte ranges decoded concurrently.
A range owns exactly the lines that *start* inside it (a line starts at offset 0 or right after
a newline), so every line is decoded once however the object is split: a range skips the tail
of the line it starts in and reads past its end to finish its last line. TSV ranges after the
first need the header block, which is read once from the start of the object and fed to each
range's decoder first.

Compressed streams cannot be split (gzip and zstd frames are not seekable in general); they are
read sequentially while their bulk bodies are sent concurrently.

Must not import clients, the native extension or the pipeline.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Final, Literal

from recall_fast.types import ByteReader, ObjectRef

GZIP_MAGIC: Final = b"\x1f\x8b"
ZSTD_MAGIC: Final = b"\x28\xb5\x2f\xfd"
#: How much of an object's start is read to sniff it and find a TSV header block.
HEAD_BYTES: Final = 64 * 1024

Compression = Literal["gzip", "zstd", "none"]
InputFormat = Literal["tsv", "json", "unknown"]


@dataclass(frozen=True, slots=True)
class Sniff:
    """What the first bytes of an object say about it."""

    compression: Compression
    format: InputFormat


def sniff(head: bytes) -> Sniff:
    """Recognise compression by magic bytes and, for plain text, TSV vs JSON by the first byte.

    Args:
        head: The first bytes of the object (a few KiB are plenty).

    Returns:
        The compression and, when uncompressed, the format ("unknown" when neither).
    """
    if head.startswith(GZIP_MAGIC):
        return Sniff("gzip", "unknown")
    if head.startswith(ZSTD_MAGIC):
        return Sniff("zstd", "unknown")
    stripped = head.lstrip(b" \t\r\n\xef\xbb\xbf")
    if stripped.startswith(b"#"):
        return Sniff("none", "tsv")
    if stripped.startswith(b"{"):
        return Sniff("none", "json")
    return Sniff("none", "unknown")


def tsv_header_block(head: bytes) -> bytes | None:
    """Return the leading ``#`` header lines of a TSV log, if they end within ``head``.

    Args:
        head: The first bytes of the object.

    Returns:
        The header block including its final newline, or None when the head does not start
        with ``#`` or the block does not end within it.
    """
    pos = 0
    while pos < len(head) and head.startswith(b"#", pos):
        end = head.find(b"\n", pos)
        if end < 0:
            return None
        pos = end + 1
    if pos == 0 or pos >= len(head):
        return None
    return head[:pos]


def plan_ranges(size: int, range_bytes: int) -> list[tuple[int, int]]:
    """Split ``[0, size)`` into consecutive ranges of about ``range_bytes``.

    The last range absorbs a remainder smaller than half a range, so no tiny tail range is
    made.

    The plan is a pure function of ``(size, range_bytes)`` and it is part of document
    identity: range ``i`` numbers its records from ``i << RANGE_SHIFT`` (``decode.stream``), so
    a redelivered object gets the same ids only under the same ``decode.range_bytes`` and
    ``decode.range_split_min_bytes`` (an unsplit object numbers every record from 0, a split one
    only its first range). Why that is acceptable: both settings are deployment configuration,
    versioned with the index pattern (which is part of identity too), and an object's size
    never changes for a given version/ETag; changing them while messages are queued would write
    the records of objects split differently under new ids. Ids independent of the plan need the
    record's byte offset (or its global line number) in the id, i.e. the native processor
    numbering records by offset: recorded as a follow-up.

    Args:
        size: Object size in bytes.
        range_bytes: Target range size (> 0).

    Returns:
        ``(start, end)`` pairs covering the object exactly, in order.

    Raises:
        ValueError: ``range_bytes`` is not positive or ``size`` is negative.
    """
    if range_bytes <= 0 or size < 0:
        raise ValueError("plan_ranges: range_bytes must be > 0 and size >= 0")
    if size == 0:
        return [(0, 0)]
    count = max(1, round(size / range_bytes))
    step = -(-size // count)
    return [(s, min(s + step, size)) for s in range(0, size, step)]


async def aligned_range(
    reader: ByteReader, ref: ObjectRef, start: int, end: int
) -> AsyncGenerator[bytes, None]:
    """Yield the bytes of the lines of ``ref`` that start in ``[start, end)``.

    Reads from ``start - 1`` (to see whether a line starts exactly at ``start``), drops the tail
    of the line in progress, and after ``end`` reads on only until the last line is complete.

    Args:
        reader: The byte reader of the object's source.
        ref: The object.
        start: First byte offset owned by the range.
        end: One past the last owned offset.

    Yields:
        Chunks of whole lines (the last chunk may lack a newline at the end of the object).

    Raises:
        RecallIOError, OSError: From the reader.
    """
    if end <= start:
        return
    pos = start - 1 if start > 0 else 0
    skipping = start > 0
    stream = reader.stream(ref, pos, None)
    async with contextlib.aclosing(stream):
        async for raw in stream:
            chunk = raw
            chunk_start = pos
            pos += len(chunk)
            if skipping:
                newline = chunk.find(b"\n")
                if newline < 0:
                    if pos >= end:
                        return  # a single line covers the whole range: no line starts here
                    continue
                first = chunk_start + newline + 1
                if first >= end:
                    return
                chunk = chunk[newline + 1 :]
                chunk_start = first
                skipping = False
            if pos < end:
                if chunk:
                    yield chunk
                continue
            newline = chunk.find(b"\n", max(end - 1 - chunk_start, 0))
            if newline >= 0:
                yield chunk[: newline + 1]
                return
            if chunk:
                yield chunk
