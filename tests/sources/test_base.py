"""Sniffing, range planning and line-aligned range reads."""

from __future__ import annotations

import gzip
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recall_fast.sources.base import aligned_range, plan_ranges, sniff, tsv_header_block
from recall_fast.sources.local import LocalReader, local_ref


def test_sniff():
    assert sniff(gzip.compress(b"x")).compression == "gzip"
    assert sniff(b"\x28\xb5\x2f\xfd....").compression == "zstd"
    assert sniff(b"#separator \\x09\n").format == "tsv"
    assert sniff(b'\n{"ts": 1}').format == "json"
    assert sniff(b"hello").format == "unknown"


def test_tsv_header_block():
    head = b"#separator \\x09\n#fields\ta\n#types\tstring\nx\n"
    assert tsv_header_block(head) == b"#separator \\x09\n#fields\ta\n#types\tstring\n"
    assert tsv_header_block(b"x\n") is None
    assert tsv_header_block(b"#separator \\x09\n#fie") is None


@pytest.mark.parametrize(
    ("size", "step"), [(0, 10), (1, 10), (10, 10), (14, 10), (16, 10), (1000, 7)]
)
def test_plan_ranges_cover_exactly(size, step):
    ranges = plan_ranges(size, step)
    assert ranges[0][0] == 0
    assert ranges[-1][1] == size
    for (_, end), (start, _) in itertools.pairwise(ranges):
        assert end == start
    if size >= step:
        assert all(e - s >= step // 2 for s, e in ranges)


def test_plan_ranges_rejects_bad_arguments():
    with pytest.raises(ValueError):
        plan_ranges(10, 0)


async def _read_ranges(path, ranges, chunk_bytes):
    reader = LocalReader(chunk_bytes=chunk_bytes)
    ref = local_ref(path.parent, path)
    parts = []
    for start, end in ranges:
        parts.append(b"".join([c async for c in aligned_range(reader, ref, start, end)]))
    return parts


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=40),
    trailing_newline=st.booleans(),
    step=st.integers(min_value=1, max_value=64),
    chunk=st.integers(min_value=4096, max_value=4096),
)
def test_aligned_ranges_partition_lines(tmp_path_factory, lines, trailing_newline, step, chunk):
    import asyncio

    data = b"\n".join(lines) + (b"\n" if trailing_newline and lines else b"")
    path = tmp_path_factory.mktemp("r") / "f.log"
    path.write_bytes(data)
    ranges = plan_ranges(len(data), step)
    parts = asyncio.run(_read_ranges(path, ranges, chunk))
    assert b"".join(parts) == data
    non_empty = [p for p in parts if p]
    for part in non_empty[:-1]:
        assert part.endswith(b"\n")


async def test_aligned_range_small_chunks(tmp_path):
    data = b"".join(b"line %d %s\n" % (i, b"x" * (i % 17)) for i in range(500))
    path = tmp_path / "f.log"
    path.write_bytes(data)
    ranges = plan_ranges(len(data), 997)
    parts = []
    reader = LocalReader(chunk_bytes=4096)
    ref = local_ref(tmp_path, path)
    for start, end in ranges:
        parts.append(b"".join([c async for c in aligned_range(reader, ref, start, end)]))
    assert b"".join(parts) == data
    assert all(p.startswith(b"line ") for p in parts)
