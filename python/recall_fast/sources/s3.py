"""S3 as a source: list a prefix, stream objects (or byte ranges of them) in MiB reads.

Stage: source. Bodies are read inside ``async with`` in ``read_chunk_bytes`` pieces, so an
object is never held whole in memory; each call and each read has its own timeout. The client
is created and owned by the caller (an ``AsyncExitStack`` of the worker or the CLI), never here.

Errors: a missing object or bucket is permanent (:class:`ObjectGoneError`: the message goes to
the dead-letter queue at once); throttling, timeouts and connection failures propagate as
``OSError``/``TimeoutError``/``ClientError`` and count as transient.

Must not import the native extension or the pipeline.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from typing import Final, Protocol

from botocore.exceptions import ClientError

from recall_fast.errors import RecallIOError
from recall_fast.types import AckHandle, ByteReader, Delivery, ObjectRef

#: Error codes that mean the object will never be readable as announced.
PERMANENT_S3_CODES: Final = frozenset(
    {"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "404", "InvalidObjectState", "InvalidRange"}
)


class ObjectGoneError(RecallIOError):
    """The object (or its bucket/version) does not exist: permanent, dead-letter it."""


class S3Body(Protocol):
    """The streaming body of a GetObject response (aiobotocore ``StreamingBody``)."""

    async def read(self, amt: int | None = None) -> bytes:
        """Read up to ``amt`` bytes; b"" at the end."""
        ...

    async def __aenter__(self) -> S3Body:
        """Enter: the connection is released on exit, even mid-body."""
        ...

    async def __aexit__(self, *exc: object) -> None:
        """Close the body and release the connection."""
        ...


class S3Client(Protocol):
    """The part of the aiobotocore S3 client this package uses (structural type)."""

    async def get_object(self, **kwargs: object) -> Mapping[str, object]:
        """GetObject."""
        ...

    async def head_object(self, **kwargs: object) -> Mapping[str, object]:
        """HeadObject."""
        ...

    async def list_objects_v2(self, **kwargs: object) -> Mapping[str, object]:
        """ListObjectsV2 (one page)."""
        ...

    async def put_object(self, **kwargs: object) -> Mapping[str, object]:
        """PutObject."""
        ...

    async def delete_object(self, **kwargs: object) -> Mapping[str, object]:
        """DeleteObject."""
        ...


def error_code(error: ClientError) -> str:
    """Return the AWS error code of a botocore ClientError ("" when absent)."""
    detail = error.response.get("Error", {})
    code = detail.get("Code", "") if isinstance(detail, Mapping) else ""
    return str(code)


def _as_gone(ref: ObjectRef, error: ClientError) -> ObjectGoneError | None:
    """Map a permanent ClientError to ObjectGoneError, else None (transient)."""
    code = error_code(error)
    if code in PERMANENT_S3_CODES:
        return ObjectGoneError(f"{ref.uri}: {code}")
    return None


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/prefix`` into (bucket, prefix).

    Raises:
        ValueError: Not an s3:// URI or no bucket.
    """
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, prefix = uri[5:].partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {uri!r}")
    return bucket, prefix


class S3Reader(ByteReader):
    """Streams S3 objects and byte ranges with timeouts on every call and read."""

    def __init__(self, client: S3Client, *, chunk_bytes: int, timeout_s: float) -> None:
        """Args: client: aiobotocore S3 client (owned by the caller); chunk_bytes: bytes per
        body read; timeout_s: limit for each call and each read."""
        self._client = client
        self._chunk_bytes = chunk_bytes
        self._timeout_s = timeout_s

    def _target(self, ref: ObjectRef) -> dict[str, object]:
        """Bucket, key and (when the notification named one) the exact version to read."""
        target: dict[str, object] = {"Bucket": ref.bucket, "Key": ref.key}
        if ref.version_id:
            target["VersionId"] = ref.version_id
        return target

    async def size(self, ref: ObjectRef) -> int:
        """Return the object size (HEAD when the notification lacked it).

        Raises:
            ObjectGoneError: The object does not exist.
            ClientError, OSError, TimeoutError: Transient failures.
        """
        if ref.size is not None:
            return ref.size
        try:
            async with asyncio.timeout(self._timeout_s):
                head = await self._client.head_object(**self._target(ref))
        except ClientError as error:
            gone = _as_gone(ref, error)
            if gone is not None:
                raise gone from error
            raise
        length = head.get("ContentLength")
        if not isinstance(length, int):
            raise RecallIOError(f"{ref.uri}: HEAD without ContentLength")
        return length

    async def etag(self, ref: ObjectRef) -> str:
        """Return the object's ETag without quotes (for document ids when events lack it).

        Raises:
            ObjectGoneError: The object does not exist.
            ClientError, OSError, TimeoutError: Transient failures.
        """
        try:
            async with asyncio.timeout(self._timeout_s):
                head = await self._client.head_object(**self._target(ref))
        except ClientError as error:
            gone = _as_gone(ref, error)
            if gone is not None:
                raise gone from error
            raise
        value = head.get("ETag")
        return value.strip('"') if isinstance(value, str) else ""

    async def stream(
        self, ref: ObjectRef, start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        """Yield ``[start, end)`` of the object in reads of ``chunk_bytes``.

        Raises:
            ObjectGoneError: The object, bucket or version does not exist.
            ClientError, OSError, TimeoutError: Transient failures (throttling, network).
        """
        kwargs = self._target(ref)
        if start > 0 or end is not None:
            if end is not None and end <= start:
                return
            kwargs["Range"] = f"bytes={start}-" + ("" if end is None else str(end - 1))
        try:
            async with asyncio.timeout(self._timeout_s):
                response = await self._client.get_object(**kwargs)
        except ClientError as error:
            if error_code(error) == "InvalidRange" and start > 0:
                return  # a range starting at or past the end of the object is empty
            gone = _as_gone(ref, error)
            if gone is not None:
                raise gone from error
            raise
        body = response["Body"]
        async with body:  # type: ignore[attr-defined]
            while True:
                async with asyncio.timeout(self._timeout_s):
                    chunk = await body.read(self._chunk_bytes)  # type: ignore[attr-defined]
                if not chunk:
                    return
                yield chunk


async def list_prefix(
    client: S3Client, bucket: str, prefix: str, *, timeout_s: float
) -> AsyncGenerator[ObjectRef, None]:
    """Yield every object under ``bucket/prefix`` (folder markers skipped), page by page.

    Raises:
        ObjectGoneError: The bucket does not exist.
        ClientError, OSError, TimeoutError: Transient failures.
    """
    token: str | None = None
    while True:
        kwargs: dict[str, object] = {"Bucket": bucket, "Prefix": prefix}
        if token:
            kwargs["ContinuationToken"] = token
        try:
            async with asyncio.timeout(timeout_s):
                page = await client.list_objects_v2(**kwargs)
        except ClientError as error:
            if error_code(error) == "NoSuchBucket":
                raise ObjectGoneError(f"s3://{bucket}: NoSuchBucket") from error
            raise
        contents = page.get("Contents", [])
        if isinstance(contents, list):
            for item in contents:
                key = item.get("Key")
                if not isinstance(key, str) or key.endswith("/"):
                    continue
                size = item.get("Size")
                etag = item.get("ETag")
                yield ObjectRef(
                    bucket=bucket,
                    key=key,
                    version=etag.strip('"') if isinstance(etag, str) else "",
                    size=size if isinstance(size, int) else None,
                )
        next_token = page.get("NextContinuationToken")
        if not page.get("IsTruncated") or not isinstance(next_token, str):
            return
        token = next_token


class S3PrefixSource:
    """Every object under one or more ``s3://bucket/prefix`` URIs, settled on one ack handle."""

    def __init__(
        self, client: S3Client, uris: list[str], reader: S3Reader, ack: AckHandle, timeout_s: float
    ) -> None:
        """Args: client: S3 client; uris: s3:// prefixes; reader: the reader for them; ack: the
        summary handle; timeout_s: per listing call.

        Raises:
            ValueError: A URI is not ``s3://bucket/...``.
        """
        self._client = client
        self._targets = [parse_s3_uri(u) for u in uris]
        self._reader = reader
        self._ack = ack
        self._timeout_s = timeout_s

    @property
    def reader(self) -> ByteReader:
        """The S3 reader."""
        return self._reader

    async def deliveries(self) -> AsyncGenerator[Delivery, None]:
        """Yield every listed object once."""
        for bucket, prefix in self._targets:
            async for ref in list_prefix(self._client, bucket, prefix, timeout_s=self._timeout_s):
                yield Delivery(ref, self._ack)
