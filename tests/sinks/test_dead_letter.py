"""Dead-letter records and the local store."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from recall_fast.sinks.dead_letter import (
    DeadLetterRecord,
    LocalDeadLetterStore,
    read_local_dead_letters,
)
from recall_fast.types import ObjectRef


def record(doc: bytes = b'{"a":1,"b":"x"}') -> DeadLetterRecord:
    return DeadLetterRecord(
        tenant="acme",
        index="recall-acme-zeek.conn-2024.01.01",
        doc_id="abc",
        status=400,
        error_type="document_parsing_exception",
        reason="failed to parse field [b]",
        document=doc,
        source="s3://b/acme/x.log",
    )


def test_round_trip_keeps_document_bytes():
    line = record().to_json()
    parsed = json.loads(line)
    assert parsed["document"] == {"a": 1, "b": "x"}
    assert parsed["error"] == {
        "type": "document_parsing_exception",
        "reason": "failed to parse field [b]",
    }
    back = DeadLetterRecord.from_json(line)
    assert back.document == b'{"a":1,"b":"x"}'
    assert back == record()


def test_invalid_document_is_kept_as_text():
    parsed = json.loads(record(b"{not json").to_json())
    assert parsed["document"] == "{not json"


async def test_local_store_writes_files_and_reads_back(tmp_path):
    store = LocalDeadLetterStore(tmp_path, today=lambda: dt.date(2024, 5, 6))
    ref = ObjectRef("b", "acme/x.log", "v")
    where = await store.put("acme", ref, [record(), record()])
    assert "tenant=acme/day=2024-05-06/" in where
    assert where.endswith(".ndjson")
    assert store.location == str(tmp_path)
    found = [(f, recs) async for f, recs in read_local_dead_letters(tmp_path)]
    assert len(found) == 1
    assert len(found[0][1]) == 2
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.integration
async def test_s3_store_round_trip(aws_session, moto_server):
    import uuid

    from recall_fast.sinks.dead_letter import S3DeadLetterStore, read_s3_dead_letters

    bucket = f"dlq-{uuid.uuid4().hex[:10]}"
    async with aws_session.create_client("s3", endpoint_url=moto_server.url) as s3:
        await s3.create_bucket(Bucket=bucket)
        store = S3DeadLetterStore(s3, f"s3://{bucket}/dead/", timeout_s=10)
        where = await store.put("acme", ObjectRef("b", "acme/x.log", "v"), [record(), record()])
        assert where.startswith(f"s3://{bucket}/dead/tenant=acme/day=")
        found = [
            item async for item in read_s3_dead_letters(s3, f"s3://{bucket}/dead/", timeout_s=10)
        ]
        assert [len(recs) for _, recs in found] == [2]
        assert found[0][1][0] == record()


@pytest.mark.integration
async def test_s3_store_failure_is_recall_io_error(aws_session, moto_server):
    from recall_fast.errors import RecallIOError
    from recall_fast.sinks.dead_letter import S3DeadLetterStore

    async with aws_session.create_client("s3", endpoint_url=moto_server.url) as s3:
        store = S3DeadLetterStore(s3, "s3://no-such-bucket-x1/dead", timeout_s=10)
        with pytest.raises(RecallIOError):
            await store.put("acme", ObjectRef("b", "k", "v"), [record()])
