"""S3 event notifications and tenants: pure parsing, no I/O.

Stage: source. Turns an SQS message body into the objects it announces and an object key into
its tenant. Both are pure functions with exhaustive tests, because both decide what is never
retried: a body that is not an S3 notification, or a key without a valid tenant, is dead-lettered
at once, and a tenant that is wrong would put one customer's data in another's index.

Accepted shapes:
- S3 notification ``{"Records": [{"eventSource": "aws:s3", "s3": {...}}]}`` (keys URL-encoded:
  decoded with ``unquote_plus``, so ``a+b`` is ``a b`` and ``%2B`` is ``+``);
- the same wrapped by SNS (``{"Type": "Notification", "Message": "<json>"}``);
- EventBridge ``{"source": "aws.s3", "detail-type": "Object Created", "detail": {...}}``
  (decided: EventBridge keys are taken verbatim: its S3 events carry the plain key);
- ``s3:TestEvent`` (sent when a notification is configured): recognised and ignored;
- a recall_fast continuation (``{"recall_fast": "continuation", "v": 1, ...}``), which a time-
  budgeted consumer (the Lambda entry) sends to hand the rest of an object on: one object plus
  the :class:`~recall_fast.types.Resume` checkpoint (:func:`continuation_body` writes it).
Only object-created events are returned; other S3 events (removals, restores) are ignored.

Must not import clients, the native extension or the pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote_plus, unquote_plus

import orjson

from recall_fast.config import TenantConfig
from recall_fast.errors import RecallError
from recall_fast.types import ObjectRef, Resume

# Tenants become part of index names and paths. The rules match the Rust side
# (recall-core normalize/routing.rs, which validates again): lowercase ASCII letters, digits and
# '-', 1..=64 characters, starting with a letter or digit, not a reserved name. So no '*', ',',
# '/', '..', '_all', upper case, '_' or non-ASCII can reach an index name or a wildcard.
_TENANT_RE: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_RESERVED_TENANTS: Final = frozenset({"all", "_all"})


class NotificationError(RecallError, ValueError):
    """An SQS message body is not an S3 event notification (permanent: dead-letter it)."""


#: Largest number of parts a continuation carries (keeps the body far below SQS's 256 KiB).
MAX_CONTINUATION_PARTS: Final = 2000


@dataclass(frozen=True, slots=True)
class Notification:
    """The objects announced by one message; empty for test and non-creation events."""

    objects: tuple[ObjectRef, ...]
    is_test_event: bool = False
    ignored_events: int = 0
    resumes: tuple[Resume | None, ...] = ()
    """Parallel to ``objects`` when non-empty: where to continue each object."""

    def resume_of(self, index: int) -> Resume | None:
        """The checkpoint of object ``index`` (None: from the beginning)."""
        return self.resumes[index] if index < len(self.resumes) else None


def continuation_body(ref: ObjectRef, resume: Resume) -> str:
    """Encode a continuation message for one object.

    Args:
        ref: The object.
        resume: Where to go on.

    Returns:
        The message body (JSON).

    Raises:
        ValueError: More than :data:`MAX_CONTINUATION_PARTS` parts (split the work instead).
    """
    if len(resume.parts) > MAX_CONTINUATION_PARTS:
        raise ValueError(f"continuation with {len(resume.parts)} parts")
    return orjson.dumps(
        {
            "recall_fast": "continuation",
            "v": 1,
            "object": {
                "bucket": ref.bucket,
                "key": ref.key,
                "version": ref.version,
                "version_id": ref.version_id,
                "size": ref.size,
            },
            "split": resume.split,
            "parts": {str(k): v for k, v in sorted(resume.parts.items())},
            "hops": resume.hops,
        }
    ).decode()


def notification_body(ref: ObjectRef) -> str:
    """Encode an S3-notification-shaped body announcing one object.

    :func:`parse_notification` turns it back into the same :class:`ObjectRef` (the key is
    URL-encoded like S3 does it). Used to re-queue an object (e.g. a direct S3 event that must
    be retried through the queue's retry policy).

    Args:
        ref: The object.

    Returns:
        The message body (JSON).
    """
    obj: dict[str, object] = {"key": quote_plus(ref.key, safe="/")}
    if ref.size is not None:
        obj["size"] = ref.size
    if ref.version_id:
        obj["versionId"] = ref.version_id
    elif ref.version:
        obj["eTag"] = ref.version
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": ref.bucket}, "object": obj},
    }
    return orjson.dumps({"Records": [record]}).decode()


def _continuation(doc: Mapping[str, object]) -> Notification:
    """Parse a continuation body.

    Raises:
        NotificationError: Unknown version or malformed fields.
    """
    if doc.get("v") != 1:
        raise NotificationError(f"unknown continuation version {doc.get('v')!r}")
    obj = doc.get("object")
    parts = doc.get("parts")
    hops = doc.get("hops", 0)
    split = doc.get("split")
    if (
        not isinstance(obj, Mapping)
        or not isinstance(parts, Mapping)
        or not isinstance(split, bool)
    ):
        raise NotificationError("continuation without object, parts or split")
    bucket, key, version = obj.get("bucket"), obj.get("key"), obj.get("version", "")
    if not isinstance(bucket, str) or not isinstance(key, str) or not key:
        raise NotificationError("continuation object without bucket/key")
    if not isinstance(version, str) or not isinstance(hops, int) or isinstance(hops, bool):
        raise NotificationError("continuation with a malformed version or hops")
    try:
        checkpoint = {int(k): int(v) for k, v in parts.items()}
    except (TypeError, ValueError) as error:
        raise NotificationError("continuation parts must map integers to integers") from error
    if len(checkpoint) > MAX_CONTINUATION_PARTS or any(v < 0 for v in checkpoint.values()):
        raise NotificationError("continuation parts out of range")
    version_id = obj.get("version_id")
    ref = ObjectRef(
        bucket=bucket,
        key=key,
        version=version,
        size=_size(obj.get("size")),
        version_id=version_id if isinstance(version_id, str) and version_id else None,
    )
    return Notification(objects=(ref,), resumes=(Resume(checkpoint, split, hops),))


@dataclass(frozen=True, slots=True)
class TenantRejection:
    """Why a key has no valid tenant (the object is dead-lettered with this reason)."""

    key: str
    reason: str


def _load(body: str | bytes) -> object:
    """Parse JSON, mapping every failure to NotificationError."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise NotificationError(f"message body is not JSON: {error}") from error


def _etag(value: object) -> str:
    """Normalise an ETag: S3 sends it quoted in some APIs and unquoted in events."""
    return value.strip('"') if isinstance(value, str) else ""


def _version_id(value: object) -> str | None:
    """Return an S3 version id; "null" (unversioned object in a versioned bucket) is None."""
    if isinstance(value, str) and value and value != "null":
        return value
    return None


def _size(value: object) -> int | None:
    """Return a non-negative integer size, or None when absent or malformed."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _s3_records(doc: Mapping[str, object]) -> Notification:
    """Parse the ``Records`` array of an S3 notification.

    Raises:
        NotificationError: A record is not shaped like an S3 record.
    """
    records = doc.get("Records")
    if not isinstance(records, list):
        raise NotificationError("'Records' is not a list")
    objects: list[ObjectRef] = []
    ignored = 0
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise NotificationError(f"Records[{i}] is not an object")
        source = record.get("eventSource")
        name = record.get("eventName", "")
        s3 = record.get("s3")
        if source not in ("aws:s3", None) or not isinstance(s3, Mapping):
            raise NotificationError(f"Records[{i}] is not an S3 event record")
        if not isinstance(name, str) or not name.startswith("ObjectCreated:"):
            ignored += 1
            continue
        bucket = s3.get("bucket")
        obj = s3.get("object")
        if not isinstance(bucket, Mapping) or not isinstance(obj, Mapping):
            raise NotificationError(f"Records[{i}] has no bucket/object")
        bucket_name = bucket.get("name")
        raw_key = obj.get("key")
        if not isinstance(bucket_name, str) or not bucket_name:
            raise NotificationError(f"Records[{i}] has no bucket name")
        if not isinstance(raw_key, str) or not raw_key:
            raise NotificationError(f"Records[{i}] has no object key")
        version_id = _version_id(obj.get("versionId"))
        objects.append(
            ObjectRef(
                bucket=bucket_name,
                key=unquote_plus(raw_key),
                version=version_id or _etag(obj.get("eTag")),
                size=_size(obj.get("size")),
                version_id=version_id,
            )
        )
    return Notification(objects=tuple(objects), ignored_events=ignored)


def _eventbridge(doc: Mapping[str, object]) -> Notification:
    """Parse an EventBridge S3 event.

    Raises:
        NotificationError: The detail lacks bucket or key.
    """
    if doc.get("detail-type") != "Object Created":
        return Notification(objects=(), ignored_events=1)
    detail = doc.get("detail")
    if not isinstance(detail, Mapping):
        raise NotificationError("EventBridge event without 'detail'")
    bucket = detail.get("bucket")
    obj = detail.get("object")
    if not isinstance(bucket, Mapping) or not isinstance(obj, Mapping):
        raise NotificationError("EventBridge detail without bucket/object")
    bucket_name = bucket.get("name")
    key = obj.get("key")
    if not isinstance(bucket_name, str) or not bucket_name or not isinstance(key, str) or not key:
        raise NotificationError("EventBridge detail without bucket name or object key")
    version_id = _version_id(obj.get("version-id"))
    ref = ObjectRef(
        bucket=bucket_name,
        key=key,
        version=version_id or _etag(obj.get("etag")),
        size=_size(obj.get("size")),
        version_id=version_id,
    )
    return Notification(objects=(ref,))


def parse_notification(body: str | bytes, *, _depth: int = 0) -> Notification:
    """Return the objects announced by an SQS message body.

    Args:
        body: The message body (JSON text).

    Returns:
        The created objects; empty with ``is_test_event`` for ``s3:TestEvent``, empty with
        ``ignored_events`` for events other than object creation.

    Raises:
        NotificationError: The body is not a recognised S3 notification (permanent).
    """
    doc = _load(body)
    if not isinstance(doc, Mapping):
        raise NotificationError("message body is not a JSON object")
    if doc.get("recall_fast") == "continuation":
        return _continuation(doc)
    if doc.get("Event") == "s3:TestEvent":
        return Notification(objects=(), is_test_event=True)
    if "Records" in doc:
        return _s3_records(doc)
    if doc.get("Type") == "Notification" and "Message" in doc:
        inner = doc.get("Message")
        if not isinstance(inner, str) or _depth > 0:
            raise NotificationError("SNS envelope without a string 'Message'")
        return parse_notification(inner, _depth=_depth + 1)
    if doc.get("source") == "aws.s3" and "detail" in doc:
        return _eventbridge(doc)
    raise NotificationError("not an S3 notification (no Records, SNS Message or EventBridge)")


def validate_tenant(name: str) -> str | None:
    """Check a tenant name; it becomes part of Elasticsearch index names and file paths.

    Args:
        name: Candidate tenant.

    Returns:
        None when valid, else the reason it is not.
    """
    if not name:
        return "empty tenant"
    if name in _RESERVED_TENANTS:
        return f"reserved tenant name {name!r}"
    if not name.isascii():
        return f"tenant {name!r} is not ASCII"
    if name != name.lower():
        return f"tenant {name!r} is not lowercase"
    if name.startswith(("-", "_", "+", ".")):
        return f"tenant {name!r} starts with {name[0]!r}"
    if _TENANT_RE.fullmatch(name) is None:
        return f"tenant {name!r} has characters outside [a-z0-9-] or is longer than 64"
    return None


class TenantResolver:
    """Derives and validates the tenant of an object key (pattern compiled once)."""

    def __init__(self, config: TenantConfig) -> None:
        """Args: config: key pattern (named group 'tenant') and optional allow-list."""
        self._pattern = re.compile(config.key_pattern)
        self._allowed = config.allowed

    def resolve(self, key: str) -> str | TenantRejection:
        """Return the tenant of ``key``, or why it has none.

        The key is checked for path tricks first (``..`` segments, empty segments, a leading
        ``/``) so a crafted key cannot select a tenant through normalisation elsewhere.

        Args:
            key: Object key (decoded) or local path relative to the source root.

        Returns:
            The tenant, or a :class:`TenantRejection`.
        """
        segments = key.split("/")
        if key.startswith("/") or ".." in segments or "." in segments:
            return TenantRejection(key, "key has '..', '.' or a leading '/'")
        match = self._pattern.search(key)
        if match is None:
            return TenantRejection(key, "key does not match the tenant pattern")
        tenant = match.group("tenant") or ""
        reason = validate_tenant(tenant)
        if reason is not None:
            return TenantRejection(key, reason)
        if self._allowed is not None and tenant not in self._allowed:
            return TenantRejection(key, f"tenant {tenant!r} is not in the allow-list")
        return tenant
