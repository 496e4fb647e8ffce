"""Golden ECS documents through the Python binding of the fused processor.

The same fixtures and golden files as ``rust/recall-core/tests/golden_ecs.rs``; here the input
is fed in small pieces through ``ZeekProcessor.feed`` so the binding path (argument
conversion, chunk carry-over, ``BulkChunk`` accessors) is covered too.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from recall_fast import _native

INGESTED_NS = 1_704_067_200_000_000_000
FIXTURES = [
    "conn.wrccdc.log",
    "conn.zat.log",
    "dns.wrccdc.log",
    "dns.wrccdc.json",
    "http.zat.log",
    "ssl.wrccdc.log",
    "files.zat.log",
]


def documents(path: Path, piece: int) -> list[dict[str, object]]:
    processor = _native.ZeekProcessor(
        "acme",
        "fixtures",
        f"acme/sensor-1/{path.name}",
        "v1",
        "sensor-1",
        ingested_ns=INGESTED_NS,
    )
    data = path.read_bytes()
    chunks = []
    for start in range(0, len(data), piece):
        chunks.extend(processor.feed(data[start : start + piece]))
    chunks.extend(processor.finish())
    assert processor.stats["lines_quarantined"] == 0
    docs = []
    for chunk in chunks:
        lines = bytes(chunk.body).split(b"\n")
        assert lines[-1] == b""
        for i in range(chunk.n_docs):
            docs.append(
                {"action": orjson.loads(lines[2 * i]), "source": orjson.loads(lines[2 * i + 1])}
            )
            assert chunk.doc(i) == lines[2 * i] + b"\n" + lines[2 * i + 1] + b"\n"
    return docs


@pytest.mark.parametrize("name", FIXTURES)
@pytest.mark.parametrize("piece", [7, 1 << 20])
def test_golden_documents(fixtures_dir: Path, name: str, piece: int) -> None:
    want = json.loads((fixtures_dir / "golden" / f"{name}.json").read_text())
    assert documents(fixtures_dir / "ecs" / name, piece) == want
