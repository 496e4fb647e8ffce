"""ZeekDecoder and read_zeek on the hand-written edge-case fixtures (tests/fixtures/zeek)."""

from __future__ import annotations

import gzip
import math
import mmap
from collections.abc import Callable
from pathlib import Path

import polars
import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import zstandard

from recall_fast import ZeekDecoder, _native, read_zeek
from recall_fast.decode import DecodedBatch, ZeekStream
from recall_fast.errors import (
    ConfigError,
    DecodeError,
    DecompressError,
    LimitExceededError,
    RecallIOError,
)


def zeek(fixtures_dir: Path, name: str) -> bytes:
    return (fixtures_dir / "zeek" / name).read_bytes()


def same(a: pa.Table, b: pa.Table) -> bool:
    """Tables equal, with NaN equal to NaN (Arrow's ``equals`` says NaN != NaN)."""
    if a.schema != b.schema:
        return False
    for ca, cb in zip(a.columns, b.columns, strict=True):
        if ca.equals(cb):
            continue
        if not pa.types.is_floating(ca.type):
            return False
        both_nan = pc.and_(pc.is_nan(ca), pc.is_nan(cb))
        if not pc.all(pc.or_(pc.equal(ca, cb), both_nan)).as_py():
            return False
    return True


def decode_all(
    data: bytes, chunk: int = 1 << 16, **options: object
) -> tuple[pa.Table, ZeekDecoder]:
    decoder = ZeekDecoder(**options)  # type: ignore[arg-type]
    batches: list[DecodedBatch] = []
    for start in range(0, len(data), chunk):
        batches += decoder.feed(data[start : start + chunk])
    batches += decoder.finish()
    tables = [pa.table(pa.record_batch(b)) for b in batches]
    return (pa.concat_tables(tables) if tables else pa.table({})), decoder


def reconciles(stats: dict[str, int]) -> None:
    assert stats["lines"] == stats["records"] + stats["quarantined"] + stats["header_lines"]


def test_tsv_edge_cases_types_and_values(fixtures_dir: Path) -> None:
    table, decoder = decode_all(zeek(fixtures_dir, "edge_cases.log"), chunk=7)
    reconciles(decoder.stats)
    assert decoder.stats["quarantined"] == 0
    schema = table.schema
    assert schema.field("ts").type == pa.timestamp("ns", tz="UTC")
    assert schema.field("n").type == pa.uint64()
    assert schema.field("p").type == pa.uint16()
    assert schema.field("ttls").type == pa.list_(pa.field("item", pa.duration("ns")))
    assert schema.field("names").metadata == {b"zeek.type": b"set[string]"}
    assert schema.metadata == {b"zeek.path": b"edge"}
    rows = table.drop_columns(["ts"]).to_pylist()
    assert rows[0]["n"] == 2**64 - 1
    assert table.column("ts").cast(pa.int64()).to_pylist()[0] == 1_700_000_000_123_456_789
    assert rows[0]["names"] == ["a,b", "c"]
    assert rows[1]["names"] == []
    assert rows[2]["names"] == ["", None, "x"]
    assert rows[3]["names"] is None
    assert rows[0]["note"] == "-"
    assert rows[1]["note"] == ""
    assert rows[2]["note"] == "caf\u00e9 \\xff \\x01 a\\b"
    assert rows[1]["id.orig_h"] == "2001:db8::1"
    assert rows[0]["d"] == math.inf and rows[1]["d"] == -math.inf and math.isnan(rows[2]["d"])
    assert rows[0]["i"] == -(2**63)


def test_custom_separators_and_meta_prefix(fixtures_dir: Path) -> None:
    table, _ = decode_all(zeek(fixtures_dir, "custom_separator.log"), chunk=3)
    assert table.column("msg").to_pylist() == ["hello|world", "", "-"]
    assert table.column("tags").to_pylist() == [["a", "b;c"], [], None]
    table, decoder = decode_all(zeek(fixtures_dir, "meta_prefix.log"))
    assert table.num_rows == 2
    assert [q["kind"] for q in decoder.quarantine] == ["field_count"]


def test_multiple_header_blocks_start_new_batches(fixtures_dir: Path) -> None:
    decoder = ZeekDecoder()
    batches = decoder.feed(zeek(fixtures_dir, "multi_block.log")) + decoder.finish()
    assert [b.column_names for b in batches] == [
        ["ts", "a", "b"],
        ["ts", "c", "b"],
        ["ts", "query"],
    ]
    assert [b.log_type for b in batches] == ["conn", "conn", "dns"]
    assert [b.first_record for b in batches] == [0, 2, 3]


def test_bad_lines_are_quarantined_not_raised(fixtures_dir: Path) -> None:
    data = zeek(fixtures_dir, "bad_lines.log")
    table, decoder = decode_all(data, chunk=1)
    assert table.num_rows == 2
    reconciles(decoder.stats)
    entries = decoder.take_quarantine()
    assert len(entries) == 6
    for entry in entries:
        assert isinstance(entry["raw"], bytes)
        offset = entry["offset"]
        assert isinstance(offset, int)
        assert data[offset:].startswith(entry["raw"])
        assert entry["reason"]
    assert decoder.quarantine == []


def test_headerless_tsv_needs_a_schema(fixtures_dir: Path) -> None:
    data = zeek(fixtures_dir, "headerless.tsv")
    schema = [("ts", "time"), ("uid", "string"), ("host", "addr"), ("n", "count")]
    table, _ = decode_all(data, tsv_schema=schema)
    assert table.column("n").to_pylist() == [3, None]
    _, decoder = decode_all(data)
    assert decoder.stats["quarantined"] == 2


def test_json_types_from_the_registry(fixtures_dir: Path) -> None:
    table, decoder = decode_all(zeek(fixtures_dir, "edge_cases.json"), chunk=5)
    reconciles(decoder.stats)
    assert table.num_rows == 3
    assert table.schema.field("id.orig_p").type == pa.uint16()
    assert table.schema.field("extra_num").metadata == {
        b"zeek.type": b"double",
        b"zeek.inferred": b"true",
    }
    assert table.column("id.resp_h").to_pylist()[0] == "2001:db8::1"


def test_json_millis_only_when_asked(fixtures_dir: Path) -> None:
    data = zeek(fixtures_dir, "millis.json")
    table, _ = decode_all(data, json_time="millis")
    assert table.column("ts").cast(pa.int64()).to_pylist()[0] == 1_700_000_000_123_000_000
    _, decoder = decode_all(data)
    assert decoder.stats["quarantined"] == 2


def test_feed_accepts_bytes_bytearray_and_memoryview(fixtures_dir: Path) -> None:
    data = zeek(fixtures_dir, "edge_cases.log")
    for wrap in (bytes, bytearray, memoryview):
        decoder = ZeekDecoder()
        batches = decoder.feed(wrap(data)) + decoder.finish()
        assert sum(b.num_rows for b in batches) == 5


def test_feed_accepts_any_buffer_with_the_same_output(tmp_path: Path) -> None:
    """Read-only buffers are read in place, writable ones in bounded pieces, strided ones
    gathered: the output is the same, and slices of a memoryview need no bytes copy."""
    data = _native.synth_log("conn", records=20_000)  # 2.5 MB
    assert len(data) > 2 << 20
    expected, _ = decode_all(data)
    path = tmp_path / "conn.log"
    path.write_bytes(data)
    doubled = bytearray(len(data) * 2)
    doubled[::2] = data
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as ro:
        sources: list[Callable[[], memoryview]] = [
            lambda: memoryview(data),
            lambda: memoryview(bytearray(data)),  # writable, > 1 MiB: several pieces
            lambda: memoryview(ro),
            lambda: memoryview(doubled)[::2],  # strided
        ]
        for source in sources:
            with source() as view:
                decoder = ZeekDecoder()
                batches: list[DecodedBatch] = []
                for start in range(0, len(view), 700_001):
                    with view[start : start + 700_001] as piece:
                        batches += decoder.feed(piece)
                batches += decoder.finish()
            table = pa.concat_tables(pa.table(pa.record_batch(b)) for b in batches)
            assert same(table, expected)
        decoder = ZeekDecoder()
        batches = decoder.feed(ro) + decoder.finish()
        assert sum(b.num_rows for b in batches) == expected.num_rows
    with pytest.raises(TypeError):
        ZeekDecoder().feed("text")  # type: ignore[arg-type]


def test_max_columns_caps_json_keys_and_tsv_headers() -> None:
    lines = b"".join(b'{"ts":1714564800.0,"k%d":%d}\n' % (i, i) for i in range(3_000))
    table, decoder = decode_all(lines, format="json", max_columns=100)
    stats = decoder.stats
    reconciles(stats)
    assert table.num_columns == 100 and table.num_rows == 99
    assert stats["quarantined"] == 3_000 - 99
    entry = decoder.quarantine[0]
    assert entry["kind"] == "too_many_columns"
    assert "max_columns (100)" in str(entry["reason"])
    wide = b"#fields\t" + b"\t".join(b"f%d" % i for i in range(2_000)) + b"\n"
    wide += (b"\t".join(b"%d" % i for i in range(2_000)) + b"\n") * 3
    _, decoder = decode_all(wide)
    assert decoder.stats["quarantined"] == 3
    assert decoder.quarantine[0]["kind"] == "too_many_columns"
    table, decoder = decode_all(wide, max_columns=2_000)
    assert table.num_rows == 3
    with pytest.raises(ConfigError):
        ZeekDecoder(max_columns=0)


def test_compressed_input(fixtures_dir: Path) -> None:
    data = zeek(fixtures_dir, "edge_cases.log")
    plain, _ = decode_all(data)
    for packed in (gzip.compress(data) + gzip.compress(b""), zstandard.compress(data)):
        table, decoder = decode_all(packed, chunk=11)
        assert same(table, plain)
        assert decoder.stats["bytes_decompressed"] == len(data)


def test_truncated_gzip_raises_after_the_complete_records() -> None:
    lines = b"#fields\tn\n#types\tcount\n" + b"".join(b"%d\n" % i for i in range(40_000))
    packed = gzip.compress(lines)
    decoder = ZeekDecoder(batch_rows=1000)
    got = decoder.feed(packed[: len(packed) // 2])
    with pytest.raises(DecompressError, match="gzip"):
        decoder.finish()
    got += decoder.take_batches()
    assert sum(b.num_rows for b in got) == decoder.stats["records"] > 1000
    reconciles(decoder.stats)
    with pytest.raises(DecompressError):
        decoder.feed(b"more")


def test_decompression_bomb_hits_the_limit() -> None:
    bomb = gzip.compress(b"a" * (16 << 20))
    decoder = ZeekDecoder(max_ratio=100)
    with pytest.raises(LimitExceededError):
        decoder.feed(bomb)
    decoder = ZeekDecoder(max_decompressed_bytes=1 << 20)
    with pytest.raises(LimitExceededError):
        decoder.feed(bomb)


def test_bad_options_raise_config_errors() -> None:
    with pytest.raises(ConfigError):
        ZeekDecoder(format="xml")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        ZeekDecoder(batch_rows=0)
    assert issubclass(DecompressError, DecodeError)


def test_read_zeek_path_and_bytes(fixtures_dir: Path) -> None:
    path = fixtures_dir / "zeek" / "edge_cases.log"
    stream = read_zeek(path, batch_rows=2)
    assert isinstance(stream, ZeekStream)
    table = pa.table(stream)
    assert table.num_rows == 5
    assert stream.stats["records"] == 5
    with pytest.raises(ConfigError, match="single-use"):
        pa.table(stream)
    batches = list(read_zeek(str(path), batch_rows=2))
    assert [b.first_record for b in batches] == [0, 2, 4]
    from_bytes = pa.table(read_zeek(path.read_bytes()))
    assert same(from_bytes, table)
    reader = pa.RecordBatchReader.from_stream(read_zeek(path))
    assert reader.read_all().num_rows == 5
    with pytest.raises(RecallIOError):
        read_zeek(fixtures_dir / "zeek" / "no_such_file.log")


def test_read_zeek_stream_reports_schema_change(fixtures_dir: Path) -> None:
    with pytest.raises(pa.ArrowInvalid, match="schema"):
        pa.table(read_zeek(fixtures_dir / "zeek" / "multi_block.log"))


def test_read_zeek_error_after_every_record() -> None:
    lines = b"#fields\tn\n#types\tcount\n" + b"".join(b"%d\n" % i for i in range(40_000))
    packed = gzip.compress(lines)
    stream = read_zeek(packed[: len(packed) // 2], batch_rows=1000)
    rows = 0
    with pytest.raises(DecompressError):
        for batch in stream:
            rows += batch.num_rows
    assert rows == stream.stats["records"] > 1000


def test_polars_reads_batches_and_streams(fixtures_dir: Path) -> None:
    path = fixtures_dir / "zeek" / "edge_cases.log"
    frame = polars.DataFrame(read_zeek(path))
    assert frame.height == 5
    assert frame["n"].dtype == polars.UInt64
    # from_arrow gives any PyCapsule object as a Series (of structs for record batches).
    series = polars.from_arrow(read_zeek(path))
    assert isinstance(series, polars.Series)
    assert series.struct.unnest().equals(frame)
    decoder = ZeekDecoder()
    (batch,) = decoder.feed(path.read_bytes()) + decoder.finish()
    assert polars.DataFrame(batch).equals(frame)


@pytest.mark.slow
def test_read_zeek_streams_a_large_file_in_constant_memory(tmp_path: Path) -> None:
    """~300 MB of log text through read_zeek while resident memory stays far below it."""
    header = (
        b"#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tmsg\n"
        b"#types\ttime\tstring\taddr\tport\tstring\n"
    )
    line = b"1700000000.000001\tCabcdefghijklmnopq\t10.1.2.3\t443\t" + b"x" * 150 + b"\n"
    block = line * 10_000
    path = tmp_path / "big.log.gz"
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(header)
        for _ in range(170):
            out.write(block)
    process = psutil.Process()
    start = process.memory_info().rss
    peak = start
    rows = 0
    for batch in read_zeek(path, batch_rows=8192):
        rows += batch.num_rows
        peak = max(peak, process.memory_info().rss)
    assert rows == 1_700_000
    text_bytes = len(header) + len(block) * 170
    assert text_bytes > 300_000_000
    assert peak - start < 100_000_000, f"resident memory grew by {(peak - start) / 1e6:.0f} MB"
