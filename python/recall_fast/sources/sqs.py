"""SQS as a source: long polling, visibility heartbeat, retry delays, delete on ack.

Stage: source. A received message is *held*: a heartbeat keeps it invisible
(``ChangeMessageVisibilityBatch`` well before it would reappear) until every object it announced
is settled, then exactly one of:

- all objects DONE: the message is deleted;
- an object REJECTed (not a Zeek log, unknown tenant, corrupt stream) or the body is not an S3
  notification: the message goes to the dead-letter queue at once (send with the reason as
  message attributes, then delete), and the alert metric counts it;
- an object must RETRY (Elasticsearch or S3 unavailable): the message stays on the queue with a
  visibility delay chosen by its ``ApproximateReceiveCount`` (5, 15, 45 minutes by default,
  :func:`retry_decision`); after the last delay it is dead-lettered instead.

The number of held messages is bounded (``max_messages_in_flight``), so a slow sink stops the
receives. On shutdown, :meth:`SqsSource.stop` ends the receive loop and
:meth:`SqsSource.release_held` makes unfinished messages visible again at once.

Must not import the native extension or the pipeline; the client is owned by the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from recall_fast.config import QueueConfig
from recall_fast.errors import ConfigError
from recall_fast.metrics import Metrics, RateLimitedLogger
from recall_fast.sources.events import NotificationError, continuation_body, parse_notification
from recall_fast.sources.s3 import ObjectGoneError, S3Reader, error_code
from recall_fast.types import ByteReader, Delivery, ObjectRef, Outcome, OutcomeKind, Resume

#: SQS limits: 10 entries per batch call, 1024 characters is plenty for an attribute reason.
_BATCH: Final = 10
_MAX_REASON_CHARS: Final = 1024
#: Back-off between failed receives (SQS itself unavailable): 1 s doubling to 30 s.
_RECEIVE_BACKOFF_S: Final = (1.0, 30.0)


class Disposition(enum.Enum):
    """What became of a settled message."""

    DELETED = "deleted"
    """Every object DONE (or the message announced nothing to do): deleted."""
    DELAYED = "delayed"
    """Transient failure: left on the queue with a retry visibility delay."""
    DEAD_LETTERED = "dead_lettered"
    """Sent to the dead-letter queue and deleted (or left to the redrive policy)."""
    CONTINUED = "continued"
    """Stopped at a checkpoint: continuation message(s) sent, original deleted."""
    KEPT = "kept"
    """An SQS call failed: the message reappears by itself after its visibility timeout."""


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """What to do with a message whose object failed transiently."""

    delay_s: float | None
    """Visibility delay before the next attempt; None when the message is dead-lettered."""

    @property
    def dead_letter(self) -> bool:
        """True when the retries are used up."""
        return self.delay_s is None


def retry_decision(receive_count: int, delays_s: Sequence[float]) -> RetryDecision:
    """Choose the visibility delay of a transiently failed message from its receive count.

    The n-th receive that fails waits ``delays_s[n-1]``; the receive after the last delay that
    fails again goes to the dead-letter queue. With (300, 900, 2700): fail on receive 1 -> wait
    5 min, 2 -> 15 min, 3 -> 45 min, 4 -> dead-letter queue.

    Args:
        receive_count: ``ApproximateReceiveCount`` of this receive (1 for the first).
        delays_s: Configured delays.

    Returns:
        The decision.
    """
    attempt = max(receive_count, 1)
    if attempt <= len(delays_s):
        return RetryDecision(delays_s[attempt - 1])
    return RetryDecision(None)


class SqsClient(Protocol):
    """The part of the aiobotocore SQS client this package uses (structural type)."""

    async def receive_message(self, **kwargs: object) -> Mapping[str, object]:
        """ReceiveMessage."""
        ...

    async def delete_message(self, **kwargs: object) -> Mapping[str, object]:
        """DeleteMessage."""
        ...

    async def change_message_visibility(self, **kwargs: object) -> Mapping[str, object]:
        """ChangeMessageVisibility."""
        ...

    async def change_message_visibility_batch(self, **kwargs: object) -> Mapping[str, object]:
        """ChangeMessageVisibilityBatch."""
        ...

    async def send_message(self, **kwargs: object) -> Mapping[str, object]:
        """SendMessage."""
        ...


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One SQS message as received."""

    message_id: str
    receipt_handle: str
    body: str
    receive_count: int
    sent_at_s: float | None

    @classmethod
    def from_lambda_record(cls, record: Mapping[str, object]) -> ReceivedMessage:
        """Build from a record of a Lambda SQS event (``messageId``, ``receiptHandle``...)."""
        return cls.from_api(
            {
                "MessageId": record.get("messageId", ""),
                "ReceiptHandle": record.get("receiptHandle", ""),
                "Body": record.get("body", ""),
                "Attributes": record.get("attributes", {}),
            }
        )

    @classmethod
    def from_api(cls, raw: Mapping[str, object]) -> ReceivedMessage:
        """Build from a ReceiveMessage entry (missing attributes get safe defaults)."""
        attributes = raw.get("Attributes")
        attrs = attributes if isinstance(attributes, Mapping) else {}
        try:
            count = int(str(attrs.get("ApproximateReceiveCount", "1")))
        except ValueError:
            count = 1
        try:
            sent = float(str(attrs["SentTimestamp"])) / 1000 if "SentTimestamp" in attrs else None
        except ValueError:
            sent = None
        return cls(
            message_id=str(raw.get("MessageId", "")),
            receipt_handle=str(raw.get("ReceiptHandle", "")),
            body=str(raw.get("Body", "")),
            receive_count=count,
            sent_at_s=sent,
        )


@dataclass(slots=True)
class _Held:
    """A message this worker holds invisible, and its objects' outcomes so far."""

    message: ReceivedMessage
    received_at: float
    visible_until: float
    pending: int = 0
    outcomes: list[Outcome] = field(default_factory=list)


class _MessageAck:
    """Ack handle of one object of a held message: fans in to the message."""

    def __init__(self, source: SqsSource, held: _Held) -> None:
        self._source = source
        self._held = held

    async def settle(self, outcome: Outcome) -> None:
        """Record the object's outcome; the last one settles the message."""
        self._held.outcomes.append(outcome)
        self._held.pending -= 1
        if self._held.pending == 0:
            await self._source.settle_message(self._held)


def dead_letter_attributes(
    reason: str, error_type: str, receive_count: int, source: str
) -> dict[str, dict[str, str]]:
    """The message attributes a dead-lettered message carries (why, what, how often, whence).

    Args:
        reason: Human-readable reason (truncated to 1,024 characters).
        error_type: Machine-readable error type (``not_a_zeek_log``, ``retries_exhausted``...).
        receive_count: Receives so far.
        source: The queue (or event source) the message came from.

    Returns:
        ``MessageAttributes`` for SendMessage.
    """
    return {
        "recall_reason": {"DataType": "String", "StringValue": _truncate(reason) or "-"},
        "recall_error_type": {"DataType": "String", "StringValue": error_type or "unknown"},
        "recall_receive_count": {"DataType": "Number", "StringValue": str(receive_count)},
        "recall_source_queue": {"DataType": "String", "StringValue": source or "-"},
    }


def _truncate(text: str) -> str:
    return text if len(text) <= _MAX_REASON_CHARS else text[: _MAX_REASON_CHARS - 1] + "…"


class SqsSource:
    """Receives S3 notifications from SQS and settles each message by its objects' outcomes."""

    def __init__(
        self,
        client: SqsClient,
        config: QueueConfig,
        reader: S3Reader,
        *,
        metrics: Metrics,
        log: RateLimitedLogger,
        request_timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        hold_deadline: Callable[[], float] | None = None,
        on_settled: Callable[[ReceivedMessage, Disposition], None] | None = None,
        fan_out_parts: bool = False,
        max_continuations: int | None = None,
    ) -> None:
        """Args: client: aiobotocore SQS client (owned by the caller); config: queue settings
        (``queue_url`` required); reader: S3 reader for the announced objects; metrics, log:
        observability; request_timeout_s: limit per SQS call (receives add their wait time);
        clock: monotonic clock; wall_clock: epoch clock (queue lag); hold_deadline: returns the
        ``loop.time()`` by which a newly accepted message's objects must be done (default: now +
        ``max_hold_s``); on_settled: told how each message was settled (also those disposed
        of inside :meth:`accept`); fan_out_parts: continue a split object's unfinished ranges as
        one message each (several consumers share them); max_continuations: a PARTIAL object
        whose continuation chain is longer is settled like RETRY ("no_progress").

        Raises:
            ConfigError: No queue URL configured.
        """
        if not config.queue_url:
            raise ConfigError("queue.queue_url is required for the worker")
        self._client = client
        self._config = config
        self._queue_url: str = config.queue_url
        self._reader = reader
        self._metrics = metrics
        self._log = log
        self._timeout_s = request_timeout_s
        self._clock = clock
        self._wall_clock = wall_clock
        self._hold_deadline = hold_deadline
        self._on_settled = on_settled
        self._fan_out_parts = fan_out_parts
        self._max_continuations = max_continuations
        self._held: dict[str, _Held] = {}
        self._lock = asyncio.Lock()
        self._room = asyncio.Condition()
        self._stopping = asyncio.Event()

    @property
    def reader(self) -> ByteReader:
        """The S3 reader of announced objects."""
        return self._reader

    @property
    def held_count(self) -> int:
        """Messages currently held invisible by this worker."""
        return len(self._held)

    def stop(self) -> None:
        """Stop receiving; the current long poll ends by itself within ``wait_time_s``."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopping.is_set()

    async def deliveries(self) -> AsyncGenerator[Delivery, None]:
        """Receive messages while not stopped, yielding one delivery per announced object.

        Waits while ``max_messages_in_flight`` messages are held (backpressure). Messages that are
        not S3 notifications are dead-lettered, test events and non-creation events deleted;
        neither is yielded.

        Raises:
            ConfigError: The queue does not exist.
        """
        backoff = _RECEIVE_BACKOFF_S[0]
        while not self._stopping.is_set():
            async with self._room:
                await self._room.wait_for(
                    lambda: (
                        len(self._held) < self._config.max_messages_in_flight
                        or self._stopping.is_set()
                    )
                )
            if self._stopping.is_set():
                return
            room = self._config.max_messages_in_flight - len(self._held)
            try:
                messages = await self._receive(min(self._config.max_messages, room))
            except (ClientError, BotoCoreError, OSError, TimeoutError) as error:
                if isinstance(error, ClientError) and "NonExistentQueue" in error_code(error):
                    raise ConfigError(f"queue {self._queue_url} does not exist") from error
                self._log.warning("sqs.receive_failed", "receive failed", error=repr(error))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _RECEIVE_BACKOFF_S[1])
                continue
            backoff = _RECEIVE_BACKOFF_S[0]
            for message in messages:
                if self._stopping.is_set():
                    await self._change_visibility(message, 0)
                    self._metrics.messages.inc(action="released")
                    continue
                async with contextlib.aclosing(self.accept(message)) as accepted:
                    async for delivery in accepted:
                        yield delivery

    async def _receive(self, max_messages: int) -> list[ReceivedMessage]:
        """One long poll.

        Raises:
            ClientError, BotoCoreError, OSError, TimeoutError: SQS failures.
        """
        async with asyncio.timeout(self._timeout_s + self._config.wait_time_s):
            response = await self._client.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=max_messages,
                WaitTimeSeconds=self._config.wait_time_s,
                VisibilityTimeout=self._config.visibility_timeout_s,
                AttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            )
        raw = response.get("Messages")
        entries = raw if isinstance(raw, list) else []
        messages = [ReceivedMessage.from_api(m) for m in entries if isinstance(m, Mapping)]
        now = self._wall_clock()
        for m in messages:
            self._metrics.messages.inc(action="received")
            if m.sent_at_s is not None:
                self._metrics.queue_lag_s.observe(max(0.0, now - m.sent_at_s))
        return messages

    async def accept(self, message: ReceivedMessage) -> AsyncGenerator[Delivery, None]:
        """Parse a received message and hold it, yielding one delivery per announced object.

        A message that is not a notification is dead-lettered, a test or non-creation event is
        deleted; neither yields anything. Each delivery's ack settles the message once all its
        objects are settled (see :meth:`settle_message`).
        """
        now = self._clock()
        held = _Held(message, now, now + self._config.visibility_timeout_s)
        try:
            notification = parse_notification(message.body)
        except NotificationError as error:
            disposition = await self._dead_letter(
                held, reason=str(error), error_type="not_a_notification"
            )
            self._settled(message, disposition)
            return
        if not notification.objects:
            deleted = await self._delete(message)
            action = "test_event" if notification.is_test_event else "ignored_event"
            self._metrics.messages.inc(action=action)
            self._settled(message, Disposition.DELETED if deleted else Disposition.KEPT)
            return
        refs: list[ObjectRef] = []
        self._held[message.receipt_handle] = held
        held.pending = len(notification.objects)
        for ref in notification.objects:
            refs.append(await self._with_version(ref, held))
        if self._hold_deadline is not None:
            deadline = self._hold_deadline()
        else:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self._config.max_hold_s - (self._clock() - now)
        ack = _MessageAck(self, held)
        for i, ref in enumerate(refs):
            yield Delivery(ref, ack, deadline=deadline, resume=notification.resume_of(i))

    async def _with_version(self, ref: ObjectRef, held: _Held) -> ObjectRef:
        """Fill in the ETag when the notification lacked it (document ids need a version).

        A HEAD that fails leaves the version empty; the object's read then reports the error.
        """
        if ref.version:
            return ref
        try:
            etag = await self._reader.etag(ref)
        except (ObjectGoneError, ClientError, BotoCoreError, OSError, TimeoutError) as error:
            self._log.warning("sqs.head_failed", "HEAD failed", uri=ref.uri, error=repr(error))
            return ref
        return ObjectRef(ref.bucket, ref.key, etag, ref.size, ref.path, ref.version_id)

    def _settled(self, message: ReceivedMessage, disposition: Disposition) -> None:
        if self._on_settled is not None:
            self._on_settled(message, disposition)

    async def settle_message(self, held: _Held) -> Disposition:
        """Delete, delay, continue or dead-letter a message once all its objects are settled.

        Precedence: any REJECT dead-letters the message; else any RETRY delays it (retries
        exhausted: dead-letter); else PARTIAL objects are continued (one continuation message
        each, then the original is deleted); else it is deleted.

        Returns:
            What became of the message (also passed to ``on_settled``).
        """
        async with self._lock:
            self._held.pop(held.message.receipt_handle, None)
        async with self._room:
            self._room.notify_all()
        disposition = await self._dispose(held)
        self._settled(held.message, disposition)
        return disposition

    async def _dispose(self, held: _Held) -> Disposition:
        rejected = [o for o in held.outcomes if o.kind is OutcomeKind.REJECT]
        failed = [o for o in held.outcomes if o.kind is OutcomeKind.RETRY]
        partial: list[Outcome] = []
        for o in held.outcomes:
            if o.kind is not OutcomeKind.PARTIAL:
                continue
            hops = o.resume.hops if o.resume is not None else 0
            if o.resume is None or (
                self._max_continuations is not None and hops > self._max_continuations
            ):
                reason = f"no progress after {hops} continuations"
                failed.append(
                    replace(o, kind=OutcomeKind.RETRY, reason=reason, error_type="no_progress")
                )
            else:
                partial.append(o)
        if rejected:
            first = rejected[0]
            return await self._dead_letter(held, reason=first.reason, error_type=first.error_type)
        if failed:
            decision = retry_decision(held.message.receive_count, self._config.retry_delays_s)
            first = failed[0]
            if decision.delay_s is None:
                reason = (
                    f"retries exhausted after {held.message.receive_count} receives: {first.reason}"
                )
                return await self._dead_letter(held, reason=reason, error_type="retries_exhausted")
            if not await self._change_visibility(held.message, decision.delay_s):
                return Disposition.KEPT
            self._metrics.messages.inc(action="retry_delayed")
            self._log.warning(
                "sqs.retry_delayed",
                "object failed, retrying later",
                message_id=held.message.message_id,
                receive_count=held.message.receive_count,
                delay_s=decision.delay_s,
                reason=first.reason,
                error_type=first.error_type,
            )
            return Disposition.DELAYED
        if partial:
            bodies = [body for o in partial for body in self._continuations(o)]
            for body in bodies:
                if not await self._send(self._queue_url, body, None):
                    return Disposition.KEPT
            self._metrics.messages.inc(float(len(bodies)), action="continued")
            return Disposition.CONTINUED if await self._delete(held.message) else Disposition.KEPT
        if not await self._delete(held.message):
            return Disposition.KEPT
        self._metrics.messages.inc(action="deleted")
        return Disposition.DELETED

    def _continuations(self, outcome: Outcome) -> list[str]:
        """Continuation bodies of a PARTIAL object: one, or one per part when fanning out."""
        resume = outcome.resume
        if resume is None:
            return []
        if self._fan_out_parts and resume.split and len(resume.parts) > 1:
            return [
                continuation_body(outcome.ref, Resume({part: record}, True, resume.hops))
                for part, record in sorted(resume.parts.items())
            ]
        return [continuation_body(outcome.ref, resume)]

    async def _dead_letter(self, held: _Held, *, reason: str, error_type: str) -> Disposition:
        """Move a message to the dead-letter queue (send, then delete) and count the alert.

        Without a dead-letter queue configured, the message is left to the queue's own
        redrive policy: it reappears after the longest retry delay.
        """
        self._held.pop(held.message.receipt_handle, None)
        message = held.message
        self._metrics.messages_dead_lettered.inc(reason=error_type or "unknown")
        self._log.error(
            "sqs.dead_lettered",
            "message moved to the dead-letter queue",
            message_id=message.message_id,
            reason=_truncate(reason),
            error_type=error_type,
            objects=[o.ref.uri for o in held.outcomes],
        )
        dlq = self._config.dead_letter_queue_url
        if not dlq:
            delay = max(self._config.retry_delays_s, default=self._config.visibility_timeout_s)
            await self._change_visibility(message, delay)
            return Disposition.DEAD_LETTERED
        attributes = dead_letter_attributes(
            reason, error_type, message.receive_count, self._queue_url
        )
        # Not deleted when the send fails: the message reappears and is dead-lettered later.
        if not await self._send(dlq, message.body, attributes):
            return Disposition.KEPT
        return Disposition.DEAD_LETTERED if await self._delete(message) else Disposition.KEPT

    async def _send(
        self, queue_url: str, body: str, attributes: Mapping[str, object] | None
    ) -> bool:
        """Send a message; failures are logged and reported as False."""
        kwargs: dict[str, object] = {"QueueUrl": queue_url, "MessageBody": body}
        if attributes:
            kwargs["MessageAttributes"] = attributes
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._client.send_message(**kwargs)
        except (ClientError, BotoCoreError, OSError, TimeoutError) as error:
            self._log.error("sqs.send_failed", "send failed", queue=queue_url, error=repr(error))
            return False
        return True

    async def _delete(self, message: ReceivedMessage) -> bool:
        """Delete a message; a failure is logged (the message will simply be redelivered)."""
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._client.delete_message(
                    QueueUrl=self._queue_url, ReceiptHandle=message.receipt_handle
                )
        except (ClientError, BotoCoreError, OSError, TimeoutError) as error:
            self._log.error("sqs.delete_failed", "delete failed", error=repr(error))
            return False
        return True

    async def _change_visibility(self, message: ReceivedMessage, timeout_s: float) -> bool:
        """Set a message's visibility timeout; failures are logged and reported as False."""
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._client.change_message_visibility(
                    QueueUrl=self._queue_url,
                    ReceiptHandle=message.receipt_handle,
                    VisibilityTimeout=int(timeout_s),
                )
        except (ClientError, BotoCoreError, OSError, TimeoutError) as error:
            self._log.error("sqs.visibility_failed", "visibility change failed", error=repr(error))
            return False
        return True

    async def _change_visibility_batch(self, held: Sequence[_Held], timeout_s: int) -> set[str]:
        """Set the visibility of several messages; returns the receipt handles that succeeded."""
        ok: set[str] = set()
        for i in range(0, len(held), _BATCH):
            batch = held[i : i + _BATCH]
            entries = [
                {
                    "Id": str(n),
                    "ReceiptHandle": h.message.receipt_handle,
                    "VisibilityTimeout": timeout_s,
                }
                for n, h in enumerate(batch)
            ]
            try:
                async with asyncio.timeout(self._timeout_s):
                    response = await self._client.change_message_visibility_batch(
                        QueueUrl=self._queue_url, Entries=entries
                    )
            except (ClientError, BotoCoreError, OSError, TimeoutError) as error:
                self._log.error(
                    "sqs.heartbeat_failed", "visibility batch failed", error=repr(error)
                )
                continue
            failed_raw = response.get("Failed")
            failed = failed_raw if isinstance(failed_raw, list) else []
            failed_ids = {str(f.get("Id")) for f in failed if isinstance(f, Mapping)}
            if failed_ids:
                self._log.warning("sqs.heartbeat_entry_failed", "entries failed", failed=failed)
            ok.update(
                h.message.receipt_handle for n, h in enumerate(batch) if str(n) not in failed_ids
            )
        return ok

    async def extend_due(self) -> int:
        """Extend the visibility of held messages that would reappear before the next check.

        Messages held longer than ``max_hold_s`` are not extended (the worker abandons them).

        Returns:
            The number of messages extended.
        """
        interval = self._config.heartbeat_interval_s
        async with self._lock:
            now = self._clock()
            due = [
                h
                for h in self._held.values()
                if h.visible_until - now < 2 * interval
                and now - h.received_at < self._config.max_hold_s
            ]
            if not due:
                return 0
            ok = await self._change_visibility_batch(due, self._config.visibility_timeout_s)
            for h in due:
                if h.message.receipt_handle in ok:
                    h.visible_until = now + self._config.visibility_timeout_s
            self._metrics.messages.inc(float(len(ok)), action="extended")
            return len(ok)

    async def heartbeat(self) -> None:
        """Keep held messages invisible until cancelled (run it in the worker's task group)."""
        while True:
            await asyncio.sleep(self._config.heartbeat_interval_s)
            await self.extend_due()

    async def release_held(self) -> int:
        """Make every still-held message visible again at once (shutdown, abandoned work).

        Returns:
            The number of messages released.
        """
        async with self._lock:
            held = list(self._held.values())
            self._held.clear()
            ok = await self._change_visibility_batch(held, 0) if held else set()
        async with self._room:
            self._room.notify_all()
        self._metrics.messages.inc(float(len(ok)), action="released")
        return len(ok)
