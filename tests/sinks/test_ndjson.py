"""NDJSON and null sinks."""

from __future__ import annotations

from recall_fast.sinks.ndjson import NdjsonSink
from recall_fast.sinks.null import NullSink
from tests.sinks.conftest import Chunk, make_ctx

BODY = b'{"create":{"_id":"a"}}\n{"n":0}\n{"create":{"_id":"b"}}\n{"n":1}\n'


async def test_ndjson_writes_documents_only(tmp_path):
    path = tmp_path / "sub" / "docs.ndjson"
    sink = NdjsonSink(path)
    ctx = make_ctx()
    await sink.write(Chunk(BODY, 2), ctx)
    await sink.write(Chunk(BODY, 2), ctx)
    await sink.end_object(ctx)
    await sink.aclose()
    assert path.read_bytes() == b'{"n":0}\n{"n":1}\n' * 2
    assert ctx.counts.documents_indexed == 4


async def test_null_sink_counts():
    sink = NullSink()
    ctx = make_ctx()
    await sink.write(Chunk(BODY, 2), ctx)
    assert (sink.documents, sink.body_bytes, ctx.counts.documents_indexed) == (2, len(BODY), 2)
