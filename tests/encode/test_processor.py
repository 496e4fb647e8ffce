"""The fused ``ZeekProcessor``: options, errors, accounting and chunk invariance."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from recall_fast import _native
from recall_fast.errors import ConfigError, DecodeError


def run(data: bytes, piece: int, **kwargs: object) -> list[_native.BulkChunk]:
    processor = _native.ZeekProcessor(
        "acme", "b", "acme/s/dns.log.gz", "v1", ingested_ns=0, **kwargs
    )  # type: ignore[arg-type]
    chunks = []
    for start in range(0, len(data), piece):
        chunks.extend(processor.feed(data[start : start + piece]))
    return chunks + processor.finish()


def test_same_bodies_however_gzip_input_is_split(fixtures_dir: Path) -> None:
    data = gzip.compress((fixtures_dir / "ecs" / "dns.wrccdc.log").read_bytes())
    whole = [c.body for c in run(data, len(data))]
    for piece in (1, 5, 333):
        assert [c.body for c in run(data, piece)] == whole


def test_stats_quarantine_and_log_type(fixtures_dir: Path) -> None:
    text = (fixtures_dir / "ecs" / "dns.wrccdc.log").read_bytes() + b"not\ta\tdns\tline\n"
    processor = _native.ZeekProcessor("acme", "b", "acme/s/x.log", "v1")
    chunks = processor.feed(text) + processor.finish()
    stats = processor.stats
    assert stats["records"] == stats["documents"] == 2
    assert stats["lines_quarantined"] == 1
    assert stats["lines"] == stats["records"] + stats["lines_quarantined"] + stats["header_lines"]
    assert [c.log_type for c in chunks] == ["dns"]
    (entry,) = processor.take_quarantine()
    assert entry["line"] == 11 and entry["raw"].startswith(b"not")


def test_range_options_shift_record_numbers(fixtures_dir: Path) -> None:
    data = (fixtures_dir / "ecs" / "dns.wrccdc.log").read_bytes()
    header = b"".join(line for line in data.splitlines(keepends=True) if line.startswith(b"#"))
    body = data[len(header) :]
    plain = run(data, len(data))
    ranged = run(body, len(body), first_record=1 << 40, header=header)
    assert ranged[0].first_record == 1 << 40
    assert ranged[0].ids != plain[0].ids
    assert ranged[0].n_docs == plain[0].n_docs


def test_truncated_input_raises_and_keeps_decoded_bodies(fixtures_dir: Path) -> None:
    data = gzip.compress((fixtures_dir / "ecs" / "conn.zat.log").read_bytes())
    processor = _native.ZeekProcessor("acme", "b", "acme/s/conn.log.gz", "v1")
    first = processor.feed(data[:-10])
    with pytest.raises(DecodeError):
        processor.finish()
    kept = first + processor.drain()
    assert sum(c.n_docs for c in kept) >= 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"format": "xml"},
        {"compression": "lz4"},
        {"action": "delete"},
        {"json_time": "hours"},
        {"index_pattern": "no-tenant-<logtype>"},
        {"log_type": "Bad"},
    ],
)
def test_invalid_options_raise_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        _native.ZeekProcessor("acme", "b", "k", "v", **kwargs)  # type: ignore[arg-type]


def test_unknown_tenant_is_refused() -> None:
    with pytest.raises(ConfigError):
        _native.ZeekProcessor("Acme Corp", "b", "k", "v")


def test_disabled_enrichments_and_unknown_names(fixtures_dir: Path) -> None:
    data = (fixtures_dir / "ecs" / "conn.wrccdc.log").read_bytes()

    def docs(**kwargs: object) -> list[bytes]:
        processor = _native.ZeekProcessor("acme", "b", "acme/s/conn.log", "v1", **kwargs)  # type: ignore[arg-type]
        chunks = processor.feed(data) + processor.finish()
        return [line for c in chunks for line in bytes(c.body).splitlines()[1::2]]

    assert all(b'"community_id"' in d for d in docs())
    assert not any(b'"community_id"' in d for d in docs(disabled_enrichments=["community_id"]))
    with pytest.raises(ConfigError, match="disabled_enrichments"):
        _native.ZeekProcessor("acme", "b", "k.log", "v1", disabled_enrichments=["nope"])


def test_feed_takes_any_contiguous_buffer(fixtures_dir: Path) -> None:
    """bytes, memoryview (of bytes or a slice of it), bytearray: the same bodies."""
    data = gzip.compress((fixtures_dir / "ecs" / "dns.wrccdc.log").read_bytes())
    whole = [c.body for c in run(data, len(data))]
    cut = len(data) // 3
    for make in (memoryview, bytearray, lambda b: memoryview(bytearray(b))):
        processor = _native.ZeekProcessor("acme", "b", "acme/s/dns.log.gz", "v1", ingested_ns=0)
        view = memoryview(data)
        chunks = processor.feed(make(view[:cut])) + processor.feed(make(view[cut:]))
        assert [c.body for c in chunks + processor.finish()] == whole
    processor = _native.ZeekProcessor("acme", "b", "acme/s/dns.log.gz", "v1")
    with pytest.raises(TypeError):
        processor.feed("not bytes")  # type: ignore[arg-type]
