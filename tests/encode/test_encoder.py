"""Stage-level ``BulkEncoder`` and the ``BulkChunk`` it returns."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recall_fast import _native
from recall_fast.errors import ConfigError


def batch(values: list[str | None], index: str = "idx") -> pa.RecordBatch:
    n = len(values)
    return pa.record_batch(
        {
            "_id": pa.array([f"id{i}" for i in range(n)]),
            "_index": pa.array([index] * n),
            "msg.text": pa.array(values, pa.string()),
            "msg.n": pa.array(range(n), pa.uint64()),
        }
    )


def parse(body: bytes | memoryview) -> list[tuple[dict[str, object], dict[str, object]]]:
    lines = bytes(body).split(b"\n")
    assert lines[-1] == b""
    return [
        (orjson.loads(lines[i]), orjson.loads(lines[i + 1])) for i in range(0, len(lines) - 1, 2)
    ]


def test_bodies_respect_limits_and_carry_bookkeeping() -> None:
    encoder = _native.BulkEncoder(max_chunk_bytes=1024, max_chunk_docs=3, action="create")
    chunks = encoder.encode(batch([f"value {i}" for i in range(10)]), first_record=100)
    chunks += encoder.finish()
    assert [c.n_docs for c in chunks] == [3, 3, 3, 1]
    assert [(c.row_start, c.row_end) for c in chunks] == [
        (100, 103),
        (103, 106),
        (106, 109),
        (109, 110),
    ]
    for c in chunks:
        assert len(c.body) <= 1024
        assert c.index_names == ["idx"]
        docs = parse(c.body)
        assert [a["create"]["_id"] for a, _ in docs] == c.ids
        if c.n_docs > 1:
            assert c.select([1, 0]) == c.doc(1) + c.doc(0)
    action, doc = parse(chunks[0].body)[0]
    assert action == {"create": {"_index": "idx", "_id": "id0"}}
    assert doc == {"msg": {"n": 0, "text": "value 0"}}


def test_oversized_document_is_rejected_with_its_record() -> None:
    encoder = _native.BulkEncoder(max_chunk_bytes=1024)
    chunks = encoder.encode(batch(["small", "x" * 5000, "small"]), first_record=0)
    chunks += encoder.finish()
    assert sum(c.n_docs for c in chunks) == 2
    assert [r["record"] for r in encoder.rejected] == [1]
    assert encoder.rejected[0]["id"] == "id1"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action": "upsert"}, "action"),
        ({"max_chunk_bytes": 10}, "max_chunk_bytes"),
        ({"max_chunk_docs": 0}, "max_chunk_docs"),
        ({"default_index": "Bad"}, "default_index"),
    ],
)
def test_invalid_options(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        _native.BulkEncoder(**kwargs)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text()), min_size=1, max_size=30))
def test_any_text_round_trips(values: list[str | None]) -> None:
    encoder = _native.BulkEncoder(max_chunk_bytes=2048, max_chunk_docs=7)
    chunks = encoder.encode(batch(values)) + encoder.finish()
    seen = []
    for chunk in chunks:
        assert len(chunk.body) <= 2048
        seen.extend(doc["msg"].get("text") for _, doc in parse(chunk.body))
    rejected = {r["record"] for r in encoder.rejected}
    assert seen == [v for i, v in enumerate(values) if i not in rejected]


def test_default_action_is_create_like_the_pipeline_config(fixtures_dir: Path) -> None:
    """One default everywhere: ``create`` (a redelivered document answers 409, never twice)."""
    from recall_fast.config import ElasticsearchConfig

    assert ElasticsearchConfig().action == "create"
    encoder = _native.BulkEncoder()
    chunks = encoder.encode(batch(["a"]), first_record=0) + encoder.finish()
    assert list(parse(chunks[0].body)[0][0]) == ["create"]
    data = (fixtures_dir / "ecs" / "dns.wrccdc.log").read_bytes()
    processor = _native.ZeekProcessor("acme", "b", "acme/s/dns.log", "v1")
    (chunk,) = processor.feed(data) + processor.finish()
    assert {next(iter(action)) for action, _ in parse(chunk.body)} == {"create"}
    explicit = _native.BulkEncoder(action="index")
    chunks = explicit.encode(batch(["a"]), first_record=0) + explicit.finish()
    assert list(parse(chunks[0].body)[0][0]) == ["index"]


def test_body_is_a_read_only_view_of_the_chunk() -> None:
    """The body is exported without a copy: a read-only memoryview that keeps the chunk alive."""
    encoder = _native.BulkEncoder()
    chunks = encoder.encode(batch(["a", "b"])) + encoder.finish()
    (chunk,) = chunks
    view = chunk.body
    assert isinstance(view, memoryview)
    assert view.readonly
    assert len(view) == chunk.nbytes
    assert bytes(view) == bytes(chunk) == bytes(memoryview(chunk))
    assert chunk.doc(0) + chunk.doc(1) == bytes(view)
    with pytest.raises(TypeError):
        view[0] = 0
    del chunk, chunks
    # The view alone keeps the buffer valid after the chunk object is gone.
    assert bytes(view).endswith(b"}\n")
    assert bytes(view).startswith(b'{"create"')


def test_bodies_stay_valid_while_buffers_are_reused() -> None:
    """Dropped bodies hand their buffers back for reuse; bodies still held never change."""
    encoder = _native.BulkEncoder(max_chunk_bytes=65536)
    held = []
    for round_ in range(12):
        # ~90 KB of documents per batch: one full body (kept) and the start of the next.
        chunks = encoder.encode(batch([f"r{round_}-{i}" * 20 for i in range(600)]))
        assert chunks[0].nbytes > 40_000
        held.append((chunks[0], bytes(chunks[0].body)))
    held += [(c, bytes(c.body)) for c in encoder.finish()]
    for chunk, copy in held:
        assert bytes(chunk.body) == copy
