"""Hypothesis: any re-chunking of the input gives identical batches, quarantine and counts."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
from hypothesis import example, given, settings
from hypothesis import strategies as st

from recall_fast import ZeekDecoder
from recall_fast.errors import RecallError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "zeek"
NAMES = [
    "edge_cases.log",
    "custom_separator.log",
    "multi_block.log",
    "bad_lines.log",
    "meta_prefix.log",
    "edge_cases.json",
    "mixed_paths.json",
]
INPUTS = [(FIXTURES / n).read_bytes() for n in NAMES]
INPUTS.append(gzip.compress(INPUTS[0]) + gzip.compress(INPUTS[2]))


def ipc(batch: pa.RecordBatch) -> tuple[pa.Schema, bytes]:
    return batch.schema, batch.serialize().to_pybytes()


def run(data: bytes, cuts: list[int], batch_rows: int) -> tuple[object, ...]:
    decoder = ZeekDecoder(batch_rows=batch_rows, max_line_bytes=200)
    batches = []
    start = 0
    try:
        for end in [*sorted({c % (len(data) + 1) for c in cuts}), len(data)]:
            batches += decoder.feed(data[start:end])
            start = end
        batches += decoder.finish()
    except RecallError as err:
        # Garbage can make the input start like a compressed stream (junk b"\x1f\x8b" in
        # front): a clear error, which must be the same however the input is split.
        return (type(err).__name__, str(err))
    stats = dict(decoder.stats)
    stats.pop("bytes_in")
    assert stats["lines"] == stats["records"] + stats["quarantined"] + stats["header_lines"]
    return (
        # IPC bytes: exact, and NaN compares equal to itself (unlike Arrow's equals).
        [(b.log_type, b.first_record, b.first_line, *ipc(pa.record_batch(b))) for b in batches],
        decoder.take_quarantine(),
        stats,
    )


@settings(max_examples=150, deadline=None)
@given(
    which=st.integers(min_value=0, max_value=len(INPUTS) - 1),
    cuts=st.lists(st.integers(min_value=0, max_value=1 << 30), max_size=30),
    batch_rows=st.integers(min_value=1, max_value=4),
)
def test_rechunking_gives_identical_output(which: int, cuts: list[int], batch_rows: int) -> None:
    data = INPUTS[which]
    assert run(data, cuts, batch_rows) == run(data, [], batch_rows)


@settings(max_examples=150, deadline=None)
@given(
    which=st.integers(min_value=0, max_value=len(INPUTS) - 2),
    junk=st.lists(st.tuples(st.integers(min_value=0), st.binary(max_size=8)), max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=1 << 30), max_size=10),
)
# Found by CI: a NUL inside a `#fields` name made the Arrow export of the batch fail.
@example(which=0, junk=[(114, b"\x00")], cuts=[])
# Found by hypothesis: gzip's magic bytes in front make the input a (corrupt) gzip stream.
@example(which=0, junk=[(0, b"\x1f\x8b")], cuts=[1])
def test_garbage_is_quarantined_and_counts_reconcile(
    which: int, junk: list[tuple[int, bytes]], cuts: list[int]
) -> None:
    data = bytearray(INPUTS[which])
    for position, blob in junk:
        at = position % (len(data) + 1)
        data[at:at] = blob
    assert run(bytes(data), cuts, 3) == run(bytes(data), [], 3)
