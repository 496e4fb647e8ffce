"""The baseline client: S3 -> Elasticsearch the way a competent Python user writes it.

``python -m benches.e2e.baseline --bucket B --prefix P --es URL --index-prefix bench-py``

aiobotocore lists and gets the objects (a few in flight), gzip decompresses, ``pyarrow.csv``
parses the TSV with the types from ``#types`` and ``to_pylist`` + one dict per row feed
``elasticsearch.helpers.async_streaming_bulk`` (which serialises with orjson when installed).
Parsing runs in a thread so the event loop keeps the bulk requests going. The building blocks are
``benches.baseline.zeek_python`` (shared with the micro benchmarks). Prints a JSON summary:
objects, documents indexed, errors, bytes in (compressed) and out of gunzip.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import sys
from datetime import timedelta
from typing import Any

import orjson
from aiobotocore.session import get_session
from benches.baseline.zeek_python import actions_for_helpers, read_tsv_pyarrow
from elasticsearch import AsyncElasticsearch
from elasticsearch.helpers import async_streaming_bulk
from elasticsearch.serializer import NdjsonSerializer, OrjsonSerializer


def _default(value: Any) -> Any:
    # Zeek intervals are timedelta after to_pylist(); the client's serializers refuse them.
    if isinstance(value, timedelta):
        return value.total_seconds()
    return OrjsonSerializer.default(OrjsonSerializer(), value)


class _Orjson(OrjsonSerializer):
    def default(self, data: Any) -> Any:
        return _default(data)


class _OrjsonNdjson(NdjsonSerializer):
    """The _bulk body serializer (helpers send NDJSON), with orjson and the same default."""

    def default(self, data: Any) -> Any:
        return _default(data)

    def json_dumps(self, data: Any) -> bytes:
        return orjson.dumps(data, default=self.default)


def _parse(data: bytes) -> tuple[str, int, Any]:
    text = gzip.decompress(data)
    log_type = text.split(b"#path\t", 1)[1].split(b"\n", 1)[0].decode()
    return log_type, len(text), read_tsv_pyarrow(text)


async def run(args: argparse.Namespace) -> dict[str, int]:
    totals = {"objects": 0, "documents": 0, "errors": 0, "bytes_in": 0, "bytes_uncompressed": 0}
    session = get_session()
    es = AsyncElasticsearch(
        args.es,
        request_timeout=120,
        serializers={"application/json": _Orjson(), "application/x-ndjson": _OrjsonNdjson()},
    )
    limit = asyncio.Semaphore(args.in_flight)
    try:
        async with session.create_client("s3", endpoint_url=args.endpoint_url) as s3:
            keys: list[str] = []
            paginator = s3.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=args.bucket, Prefix=args.prefix):
                keys.extend(o["Key"] for o in page.get("Contents", []))

            async def one(n: int, key: str) -> None:
                async with limit:
                    response = await s3.get_object(Bucket=args.bucket, Key=key)
                    async with response["Body"] as body:
                        data = await body.read()
                    log_type, size, table = await asyncio.to_thread(_parse, data)
                    tenant = key.split("/", 1)[0]
                    actions = actions_for_helpers(
                        table,
                        index=f"{args.index_prefix}-{tenant}-zeek.{log_type}",
                        id_prefix=str(n),
                    )
                    async for ok, _ in async_streaming_bulk(
                        es,
                        actions,
                        chunk_size=5000,
                        max_chunk_bytes=5 << 20,
                        raise_on_error=False,
                        max_retries=5,
                    ):
                        totals["documents" if ok else "errors"] += 1
                    totals["objects"] += 1
                    totals["bytes_in"] += len(data)
                    totals["bytes_uncompressed"] += size

            async with asyncio.TaskGroup() as group:
                for n, key in enumerate(keys):
                    group.create_task(one(n, key))
    finally:
        await es.close()
    return totals


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--es", required=True, help="Elasticsearch URL")
    parser.add_argument("--endpoint-url", default=None, help="S3 endpoint (moto)")
    parser.add_argument("--index-prefix", default="bench-py")
    parser.add_argument("--in-flight", type=int, default=4, help="objects processed at once")
    args = parser.parse_args()
    totals = asyncio.run(run(args))
    print(json.dumps(totals))
    return 0 if totals["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
