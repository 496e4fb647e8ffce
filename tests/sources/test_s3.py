"""S3 reader and listing against moto (real HTTP semantics: ranges, errors)."""

from __future__ import annotations

import uuid

import pytest

from recall_fast.sources.base import aligned_range, plan_ranges
from recall_fast.sources.s3 import ObjectGoneError, S3Reader, list_prefix, parse_s3_uri
from recall_fast.types import ObjectRef

pytestmark = pytest.mark.integration


@pytest.fixture
async def s3(aws_session, moto_server):
    async with aws_session.create_client("s3", endpoint_url=moto_server.url) as client:
        yield client


@pytest.fixture
async def bucket(s3):
    name = f"b-{uuid.uuid4().hex[:12]}"
    await s3.create_bucket(Bucket=name)
    return name


def test_parse_s3_uri():
    assert parse_s3_uri("s3://b/p/q") == ("b", "p/q")
    assert parse_s3_uri("s3://b") == ("b", "")
    with pytest.raises(ValueError):
        parse_s3_uri("http://b")


async def test_stream_whole_and_ranges(s3, bucket):
    data = b"".join(b"line %05d\n" % i for i in range(20_000))
    await s3.put_object(Bucket=bucket, Key="acme/a.log", Body=data)
    reader = S3Reader(s3, chunk_bytes=64 * 1024, timeout_s=30)
    ref = ObjectRef(bucket, "acme/a.log")
    chunks = [c async for c in reader.stream(ref)]
    assert b"".join(chunks) == data
    assert max(len(c) for c in chunks) <= 64 * 1024
    assert b"".join([c async for c in reader.stream(ref, 10, 30)]) == data[10:30]
    assert [c async for c in reader.stream(ref, len(data) + 5)] == []
    assert await reader.size(ref) == len(data)
    assert await reader.etag(ref)
    parts = []
    for start, end in plan_ranges(len(data), 50_000):
        parts.append(b"".join([c async for c in aligned_range(reader, ref, start, end)]))
    assert b"".join(parts) == data
    assert all(p.startswith(b"line ") for p in parts)


async def test_missing_object_is_gone(s3, bucket):
    reader = S3Reader(s3, chunk_bytes=1024, timeout_s=30)
    ref = ObjectRef(bucket, "acme/missing.log")
    with pytest.raises(ObjectGoneError):
        [c async for c in reader.stream(ref)]
    with pytest.raises(ObjectGoneError):
        await reader.size(ref)
    with pytest.raises(ObjectGoneError):
        [r async for r in list_prefix(s3, f"nobucket-{uuid.uuid4().hex}", "", timeout_s=30)]


async def test_list_prefix(s3, bucket):
    for key in ["acme/a", "acme/b", "acme/dir/", "globex/c"]:
        await s3.put_object(Bucket=bucket, Key=key, Body=b"x" * 3)
    refs = [r async for r in list_prefix(s3, bucket, "acme/", timeout_s=30)]
    assert [r.key for r in refs] == ["acme/a", "acme/b"]
    assert all(r.size == 3 and len(r.version) == 32 for r in refs)
