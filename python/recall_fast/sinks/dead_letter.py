"""Dead-letter store: documents Elasticsearch rejected for good, with its reason.

Stage: sink. A mapping or parse error (a 4xx item) will fail again however often it is sent,
so the document goes here, durably, before its object counts as complete: one NDJSON file per
rejected batch, each line with the tenant, index, id, HTTP status, Elasticsearch's error type
and reason, the source object and the document itself (raw JSON, byte for byte).
``recall-fast dlq replay`` sends them again with unchanged ids once the mapping is fixed.

Layout (local directory or S3 prefix)::

    <root>/tenant=<tenant>/day=YYYY-MM-DD/<object digest>-<uuid>.ndjson

Local files are written to a temporary name, fsynced and renamed, so a crash never leaves a
half-written record that replay would choke on.

Must not import the native extension or the pipeline.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid
from collections.abc import AsyncGenerator, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import orjson
from botocore.exceptions import BotoCoreError, ClientError

from recall_fast.errors import RecallIOError
from recall_fast.sources.s3 import S3Client, list_prefix, parse_s3_uri
from recall_fast.types import ObjectRef


@dataclass(frozen=True, slots=True)
class DeadLetterRecord:
    """One rejected document and why."""

    tenant: str
    index: str
    doc_id: str
    status: int
    error_type: str
    reason: str
    document: bytes
    """The document as sent (one JSON object, no newline)."""
    source: str = ""
    """URI of the object the document came from."""
    action: str = "create"

    def to_json(self) -> bytes:
        """Encode as one NDJSON line (no newline); the document is embedded unchanged.

        A document that is not valid JSON (it cannot be: the encoder writes it) is stored as a
        string instead, so the line stays parseable.
        """
        try:
            orjson.loads(self.document)
            document: object = orjson.Fragment(self.document)
        except orjson.JSONDecodeError:
            document = self.document.decode("utf-8", "replace")
        return orjson.dumps(
            {
                "tenant": self.tenant,
                "index": self.index,
                "id": self.doc_id,
                "action": self.action,
                "status": self.status,
                "error": {"type": self.error_type, "reason": self.reason},
                "source": self.source,
                "document": document,
            }
        )

    @classmethod
    def from_json(cls, line: bytes) -> DeadLetterRecord:
        """Decode one stored line.

        Raises:
            ValueError: The line is not a dead-letter record.
        """
        doc = orjson.loads(line)
        if not isinstance(doc, dict) or "document" not in doc or "index" not in doc:
            raise ValueError("not a dead-letter record")
        error = doc.get("error") or {}
        document = doc["document"]
        raw = document.encode() if isinstance(document, str) else orjson.dumps(document)
        return cls(
            tenant=str(doc.get("tenant", "")),
            index=str(doc["index"]),
            doc_id=str(doc.get("id", "")),
            status=int(doc.get("status", 0)),
            error_type=str(error.get("type", "")),
            reason=str(error.get("reason", "")),
            document=raw,
            source=str(doc.get("source", "")),
            action=str(doc.get("action", "create")),
        )


class DeadLetterStore(Protocol):
    """Durable storage for rejected documents."""

    @property
    def location(self) -> str:
        """Where records go (directory or s3:// URI), for logs and summaries."""
        ...

    async def put(self, tenant: str, ref: ObjectRef, records: Sequence[DeadLetterRecord]) -> str:
        """Store records durably before returning.

        Returns:
            Where they were written.

        Raises:
            RecallIOError, OSError: Storing failed (the object then fails transiently).
        """
        ...


def _file_name(tenant: str, ref: ObjectRef, today: dt.date) -> str:
    return f"tenant={tenant}/day={today.isoformat()}/{ref.digest}-{uuid.uuid4().hex}.ndjson"


def _encode(records: Sequence[DeadLetterRecord]) -> bytes:
    return b"".join(r.to_json() + b"\n" for r in records)


class LocalDeadLetterStore:
    """Dead letters as NDJSON files under a local directory."""

    def __init__(
        self,
        root: Path,
        *,
        executor: Executor | None = None,
        today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date(),
    ) -> None:
        """Args: root: directory (created on first use); executor: where file I/O runs;
        today: UTC date for the day partition (tests inject one)."""
        self._root = root
        self._executor = executor
        self._today = today

    @property
    def location(self) -> str:
        """The directory."""
        return str(self._root)

    async def put(self, tenant: str, ref: ObjectRef, records: Sequence[DeadLetterRecord]) -> str:
        """Write the records to a new file (temp name, fsync, rename).

        Raises:
            RecallIOError: The file cannot be written.
        """
        path = self._root / _file_name(tenant, ref, self._today())
        data = _encode(records)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_name(f".{path.name}.tmp")
            with temp.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            temp.replace(path)

        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, write)
        except OSError as error:
            raise RecallIOError(f"dead-letter write {path}: {error}") from error
        return str(path)


class S3DeadLetterStore:
    """Dead letters as NDJSON objects under an S3 prefix."""

    def __init__(
        self,
        client: S3Client,
        uri: str,
        *,
        timeout_s: float,
        today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date(),
    ) -> None:
        """Args: client: S3 client (owned by the caller); uri: ``s3://bucket/prefix``;
        timeout_s: per PutObject; today: UTC date for the day partition.

        Raises:
            ValueError: ``uri`` is not an s3:// URI.
        """
        self._client = client
        self._bucket, prefix = parse_s3_uri(uri)
        self._prefix = prefix.rstrip("/") + "/" if prefix else ""
        self._timeout_s = timeout_s
        self._today = today

    @property
    def location(self) -> str:
        """The s3:// prefix."""
        return f"s3://{self._bucket}/{self._prefix}"

    async def put(self, tenant: str, ref: ObjectRef, records: Sequence[DeadLetterRecord]) -> str:
        """PutObject the records as one NDJSON object.

        Raises:
            RecallIOError, TimeoutError: The put failed.
        """
        key = self._prefix + _file_name(tenant, ref, self._today())
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._client.put_object(
                    Bucket=self._bucket,
                    Key=key,
                    Body=_encode(records),
                    ContentType="application/x-ndjson",
                )
        except (ClientError, BotoCoreError) as error:
            raise RecallIOError(f"dead-letter put s3://{self._bucket}/{key}: {error}") from error
        return f"s3://{self._bucket}/{key}"


async def read_local_dead_letters(
    root: Path,
) -> AsyncGenerator[tuple[str, list[DeadLetterRecord]], None]:
    """Yield (file, records) for every dead-letter file under ``root``, in name order.

    Raises:
        RecallIOError: ``root`` does not exist.
        ValueError: A line is not a dead-letter record.
    """
    loop = asyncio.get_running_loop()

    def listing() -> list[Path]:
        if not root.is_dir():
            raise RecallIOError(f"no dead-letter directory {root}")
        return sorted(root.rglob("*.ndjson"))

    for path in await loop.run_in_executor(None, listing):
        data = await loop.run_in_executor(None, path.read_bytes)
        yield str(path), [DeadLetterRecord.from_json(line) for line in data.splitlines() if line]


async def read_s3_dead_letters(
    client: S3Client, uri: str, *, timeout_s: float
) -> AsyncGenerator[tuple[str, list[DeadLetterRecord]], None]:
    """Yield (object URI, records) for every dead-letter object under an S3 prefix.

    Raises:
        ClientError, OSError, TimeoutError: Listing or reading failed.
        ValueError: A line is not a dead-letter record.
    """
    bucket, prefix = parse_s3_uri(uri)
    async for ref in list_prefix(client, bucket, prefix, timeout_s=timeout_s):
        if not ref.key.endswith(".ndjson"):
            continue
        async with asyncio.timeout(timeout_s):
            response = await client.get_object(Bucket=bucket, Key=ref.key)
            body = response["Body"]
            async with body:  # type: ignore[attr-defined]
                data: bytes = await body.read()  # type: ignore[attr-defined]
        yield ref.uri, [DeadLetterRecord.from_json(line) for line in data.splitlines() if line]
