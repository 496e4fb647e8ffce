"""AWS Lambda entry point: SQS batches of S3 notifications (or direct S3 events) -> the pipeline.

Stage: edge (Lambda). ``handle`` is the function the template names
(``recall_fast.lambda_entry.handler.handle``). It runs exactly the worker's components
(``orchestration.worker.open_components``: the same S3 reader, sink, dead-letter store, retry
policy and metrics), only fed differently:

- **SQS event** (the template's wiring): every record is a message the event source mapping
  already received. Each goes through ``SqsSource.accept`` and ``Pipeline.handle`` like a
  worker's message, and ``SqsSource`` settles it the worker's way: deleted when its objects are
  done, dead-lettered at once on a logic failure, made invisible for the next retry delay
  (5, 15, 45 min by default) on a transient one, and dead-lettered after the last. The response
  is a partial batch response: only messages that must come back (retry delayed, or an SQS
  call failed) are listed in ``batchItemFailures``; everything else was already deleted or
  moved, so the mapping's own delete is a no-op.
- **Direct S3 event** (S3 invoking the function): the same objects, settled here by forwarding
  what could not finish to the queue (continuation or delayed retry) or to the dead-letter
  queue; without a queue configured a failure raises, so Lambda's own async retry applies.

Deadline: the budget (``budget.py``) is read from ``context.get_remaining_time_in_millis()``.
At ``deadline - aws_lambda.deadline_margin_s`` the pipeline stops feeding input, lets every
document already decoded settle in the sink, and each unfinished object leaves as a
continuation message (object, version, per range the next record number; see
``types.Resume``) that the next invocation resumes. Ids are deterministic, so the overlap of a
resumed bulk chunk overwrites instead of duplicating: no record is lost or indexed twice. A
split object's unfinished ranges fan out as one message each (``aws_lambda.fan_out_ranges``).
A backstop deadline a quarter margin before the end turns a flush that still hangs (an
unreachable Elasticsearch) into a transient failure with a retry delay.

Warm invocations reuse the event loop, the executor and every client: :class:`LambdaApp` is
the single module-level singleton the style rules allow, created lazily on the first
invocation. Importing this module loads the pipeline during Lambda's init phase (not billed to
any invocation's time budget) and never imports pyarrow, polars or numpy
(``tests/lambda_entry`` asserts it; ``benches/python/test_lambda_cold_start.py`` measures it).

Metrics: one CloudWatch Embedded Metric Format line on stdout per invocation (the interval's
deltas), the worker's metric names.

Must not import pyarrow, polars or any sink but Elasticsearch's (cold start), and must not
re-implement settlement, retry or dead-letter decisions: those belong to ``sources/sqs.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import orjson

from recall_fast.config import Config, from_env
from recall_fast.errors import RecallError
from recall_fast.lambda_entry.budget import InvocationBudget, LambdaContext, stop_when_due
from recall_fast.metrics import EmfEmitter, Metrics, RateLimitedLogger, configure_logging
from recall_fast.orchestration.assembly import Observability
from recall_fast.orchestration.runtime import make_executor
from recall_fast.orchestration.worker import Components, open_components
from recall_fast.sources.events import (
    Notification,
    NotificationError,
    continuation_body,
    notification_body,
    parse_notification,
)
from recall_fast.sources.sqs import Disposition, ReceivedMessage, dead_letter_attributes
from recall_fast.types import Delivery, Outcome, OutcomeKind

#: Dispositions after which a message must come back: they go into ``batchItemFailures``.
RETRY_DISPOSITIONS: Final = frozenset({Disposition.DELAYED, Disposition.KEPT})
#: SQS caps DelaySeconds at 15 minutes.
_SQS_MAX_DELAY_S: Final = 900
#: ``recall_source_queue`` of a direct S3 event's object sent to the dead-letter queue.
_DIRECT_SOURCE: Final = "s3-direct"

JsonDict = dict[str, object]


class EventError(RecallError, ValueError):
    """The event is neither an SQS batch nor an S3 notification (the invocation fails)."""


@dataclass(slots=True)
class _Invocation:
    """State of the invocation in progress (dispositions reported by the SqsSource)."""

    budget: InvocationBudget
    dispositions: dict[str, Disposition] = field(default_factory=dict)


def sqs_records(event: Mapping[str, object]) -> list[Mapping[str, object]] | None:
    """Return the records of an SQS event, or None when the event is not one.

    Raises:
        EventError: A record is malformed (not an object, no message id or receipt handle).
    """
    records = event.get("Records")
    if not isinstance(records, list) or not records:
        return None
    sources = {r.get("eventSource") for r in records if isinstance(r, Mapping)}
    if sources != {"aws:sqs"}:
        return None
    for record in records:
        if not isinstance(record, Mapping):
            raise EventError("SQS event with a record that is not an object")
        if not isinstance(record.get("messageId"), str) or not isinstance(
            record.get("receiptHandle"), str
        ):
            raise EventError("SQS record without messageId/receiptHandle")
    return list(records)


def direct_notification(event: Mapping[str, object]) -> Notification:
    """Parse a direct S3 event (S3 invoking the function) with the worker's parser.

    Raises:
        EventError: The event is neither an SQS batch nor an S3 notification.
    """
    try:
        return parse_notification(orjson.dumps(event))
    except NotificationError as error:
        raise EventError(f"not an SQS batch or S3 event: {error}") from error


def batch_response(
    messages: Sequence[ReceivedMessage], dispositions: Mapping[str, Disposition]
) -> JsonDict:
    """Build the partial batch response.

    A message is reported failed when it must come back: its retry delay was set, an SQS call
    to settle it failed, or it was never settled (a crash; it reappears after the visibility
    timeout).

    Args:
        messages: The batch, in event order.
        dispositions: What happened to each message, by receipt handle.

    Returns:
        ``{"batchItemFailures": [{"itemIdentifier": message_id}, ...]}``.
    """
    failures = [
        {"itemIdentifier": m.message_id}
        for m in messages
        if dispositions.get(m.receipt_handle, Disposition.KEPT) in RETRY_DISPOSITIONS
    ]
    return {"batchItemFailures": failures}


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when installed (faster network I/O), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


class LambdaApp:
    """The warm state of one Lambda execution environment.

    Holds the event loop, the executor, the metrics and (after the first invocation) the
    clients and pipeline in an ``AsyncExitStack``, so warm invocations pay for none of them.
    One stop event serves every invocation: cleared at the start, set at the budget's stop time.
    """

    def __init__(self, config: Config, *, write: Callable[[bytes], None] | None = None) -> None:
        """Create the warm state; no client is opened until the first invocation.

        Args:
            config: The configuration (``from_env()`` in Lambda).
            write: Sink of EMF lines (stdout by default).
        """
        self.config = config
        self.metrics = Metrics()
        self._write = write or _write_stdout
        self._emf = (
            EmfEmitter(self.metrics, config.observability.emf_namespace)
            if config.observability.emf
            else None
        )
        self._log = RateLimitedLogger(
            logging.getLogger("recall_fast.lambda"),
            rate_per_s=config.observability.log_rate_per_s,
            burst=config.observability.log_burst,
            metrics=self.metrics,
        )
        self._loop = _new_loop()
        self._executor = make_executor(config.decode.effective_threads())
        self._stack = contextlib.AsyncExitStack()
        self._components: Components | None = None
        self._stop = asyncio.Event()
        self._current: _Invocation | None = None
        self.invocations = 0

    # ------------------------------------------------------------------ lifecycle

    def invoke(self, event: Mapping[str, object], context: LambdaContext) -> JsonDict:
        """Handle one invocation on the warm loop.

        Args:
            event: The Lambda event (SQS batch or S3 notification).
            context: The Lambda context (deadline, request id).

        Returns:
            The partial batch response (SQS) or a summary of the objects (direct S3 event).

        Raises:
            EventError: The event is of an unknown shape.
            RuntimeError: A direct S3 event's object failed and no queue is configured to hand
                it to (Lambda's asynchronous retry then applies).
        """
        self.invocations += 1
        return self._loop.run_until_complete(self._invoke(event, context))

    def warm(self) -> None:
        """Open the clients, sink and pipeline now instead of in the first invocation.

        For an init hook (provisioned concurrency, SnapStart-style warm-up) and for the
        cold-start benchmark; the first invocation does it otherwise. Makes no network call.
        """
        self._loop.run_until_complete(self._open())

    def close(self) -> None:
        """Close clients, executor and loop (tests; Lambda simply freezes or ends the process)."""
        if self._loop.is_closed():
            return
        self._loop.run_until_complete(self._stack.aclose())
        self._executor.shutdown(wait=True)
        self._loop.close()

    async def _open(self) -> Components:
        """Open clients, sink and pipeline once (first invocation of this environment)."""
        if self._components is None:
            cfg = self.config.aws_lambda
            self._components = await open_components(
                self.config,
                self._stack,
                obs=Observability(self.metrics, self._log),
                executor=self._executor,
                stop=self._stop,
                hold_deadline=self._hold_deadline,
                on_settled=self._on_settled,
                fan_out_parts=cfg.fan_out_ranges,
                max_continuations=cfg.max_continuations,
            )
        return self._components

    def _hold_deadline(self) -> float:
        """Backstop deadline of a delivery: a quarter margin before Lambda's kill."""
        current = self._current
        if current is None:  # pragma: no cover - deliveries only exist during an invocation
            return asyncio.get_running_loop().time()
        budget = current.budget
        return budget.deadline - budget.margin_s / 4

    def _on_settled(self, message: ReceivedMessage, disposition: Disposition) -> None:
        """Record what the SqsSource did with a message of the current batch."""
        if self._current is not None:
            self._current.dispositions[message.receipt_handle] = disposition

    # ------------------------------------------------------------------ one invocation

    async def _invoke(self, event: Mapping[str, object], context: LambdaContext) -> JsonDict:
        loop = asyncio.get_running_loop()
        budget = InvocationBudget.start(
            context.get_remaining_time_in_millis(),
            self.config.aws_lambda.deadline_margin_s,
            loop.time(),
        )
        # Shape errors surface as themselves, before any work (not wrapped by a task group).
        records = sqs_records(event)
        notification = direct_notification(event) if records is None else None
        components = await self._open()
        self._stop.clear()
        self._current = _Invocation(budget)
        result: JsonDict
        unforwarded: list[Outcome] = []
        try:
            async with asyncio.TaskGroup() as group:
                watchdog = group.create_task(stop_when_due(budget, self._stop))
                try:
                    if notification is not None:
                        result, unforwarded = await self._direct(notification, components, context)
                    else:
                        result = await self._sqs_batch(records or [], components)
                finally:
                    watchdog.cancel()
        finally:
            self._current = None
            if self._emf is not None:
                self._write(self._emf.line() + b"\n")
        if unforwarded:
            raise RuntimeError(
                f"{len(unforwarded)} object(s) could not finish and could not be handed to a "
                f"queue: {[o.ref.uri for o in unforwarded]}"
            )
        return result

    async def _sqs_batch(
        self, records: Sequence[Mapping[str, object]], components: Components
    ) -> JsonDict:
        """Process an SQS batch the worker's way and report what must come back."""
        messages = [ReceivedMessage.from_lambda_record(r) for r in records]
        slots = asyncio.Semaphore(self.config.queue.max_messages_in_flight)
        try:
            async with asyncio.TaskGroup() as group:
                for message in messages:
                    # Every message is accepted, even after the stop time: the pipeline then
                    # returns at once with a continuation, so nothing waits for its visibility
                    # timeout and no receive count is spent on work that never started.
                    async with contextlib.aclosing(components.source.accept(message)) as found:
                        async for delivery in found:
                            await slots.acquire()
                            group.create_task(self._deliver(components, delivery, slots))
        finally:
            # A delivery that crashed leaves its message held: release it (visible at once)
            # so the warm source holds nothing into the next invocation.
            await components.source.release_held()
        current = self._current
        dispositions = current.dispositions if current is not None else {}
        response = batch_response(messages, dispositions)
        self._log.info(
            "lambda.batch",
            "batch settled",
            messages=len(messages),
            failures=len(response["batchItemFailures"]),  # type: ignore[arg-type]
            dispositions={d.value: list(dispositions.values()).count(d) for d in Disposition},
        )
        return response

    async def _deliver(
        self, components: Components, delivery: Delivery, slots: asyncio.Semaphore
    ) -> Outcome | None:
        """Run one delivery through the pipeline (which settles it); never raises."""
        try:
            return await components.pipeline.handle(delivery)
        except Exception as error:
            self._log.error(
                "lambda.delivery_crashed",
                "delivery crashed",
                uri=delivery.ref.uri,
                error=repr(error),
            )
            return None
        finally:
            slots.release()

    async def _direct(
        self, notification: Notification, components: Components, context: LambdaContext
    ) -> tuple[JsonDict, list[Outcome]]:
        """Process a direct S3 event and forward what could not finish to the queues.

        Returns:
            The per-object summary, and the outcomes that could not be forwarded (no queue
            configured or the send failed).
        """
        outcomes: list[Outcome] = []
        ack = _Collect(outcomes)
        deadline = self._hold_deadline()
        slots = asyncio.Semaphore(self.config.queue.max_messages_in_flight)

        async def one(delivery: Delivery) -> None:
            async with slots:
                await components.pipeline.handle(delivery)

        async with asyncio.TaskGroup() as group:
            for i, ref in enumerate(notification.objects):
                resume = notification.resume_of(i)
                group.create_task(one(Delivery(ref, ack, deadline=deadline, resume=resume)))
        unforwarded = [o for o in outcomes if not await self._forward(o, components)]
        summary: JsonDict = {
            "request_id": context.aws_request_id,
            "objects": [
                {"object": o.ref.uri, "outcome": o.kind.value, "reason": o.reason} for o in outcomes
            ],
        }
        return summary, unforwarded

    async def _forward(self, outcome: Outcome, components: Components) -> bool:
        """Hand a direct event's unfinished object to the queue (or DLQ).

        Returns:
            True when nothing is left to do (DONE, or the message was sent).
        """
        if outcome.kind is OutcomeKind.DONE:
            return True
        queue = self.config.queue
        timeout_s = self.config.s3.request_timeout_s
        request: dict[str, object]
        if outcome.kind is OutcomeKind.REJECT:
            if not queue.dead_letter_queue_url:
                return False
            request = {
                "QueueUrl": queue.dead_letter_queue_url,
                "MessageBody": notification_body(outcome.ref),
                "MessageAttributes": dead_letter_attributes(
                    outcome.reason, outcome.error_type, 1, _DIRECT_SOURCE
                ),
            }
            self.metrics.messages_dead_lettered.inc(reason=outcome.error_type or "unknown")
        elif not queue.queue_url:
            return False
        elif outcome.kind is OutcomeKind.PARTIAL and outcome.resume is not None:
            request = {
                "QueueUrl": queue.queue_url,
                "MessageBody": continuation_body(outcome.ref, outcome.resume),
            }
        else:
            delay = min(
                int(queue.retry_delays_s[0]) if queue.retry_delays_s else 0, _SQS_MAX_DELAY_S
            )
            request = {
                "QueueUrl": queue.queue_url,
                "MessageBody": notification_body(outcome.ref),
                "DelaySeconds": delay,
            }
        try:
            async with asyncio.timeout(timeout_s):
                await components.sqs.send_message(**request)
        except Exception as error:
            self._log.error(
                "lambda.forward_failed", "could not forward", uri=outcome.ref.uri, error=repr(error)
            )
            return False
        self.metrics.messages.inc(action=f"forwarded_{outcome.kind.value}")
        return True


@dataclass(slots=True)
class _Collect:
    """Ack handle of a direct S3 event's objects: collects the outcomes."""

    outcomes: list[Outcome]

    async def settle(self, outcome: Outcome) -> None:
        """Keep the outcome for forwarding after the batch."""
        self.outcomes.append(outcome)


def _write_stdout(line: bytes) -> None:
    """Write an EMF line to stdout, where Lambda's log agent extracts the metrics."""
    sys.stdout.buffer.write(line)
    sys.stdout.buffer.flush()


#: The warm app: the one module-level singleton (style rule 10), created by the first invocation.
_APP: LambdaApp | None = None


def app() -> LambdaApp:
    """Return the warm app, creating it from the environment on first use.

    Returns:
        The process's LambdaApp.

    Raises:
        ConfigError: The environment's configuration is invalid (the invocation fails and the
            Lambda Errors alarm fires).
    """
    global _APP
    if _APP is None:
        config = from_env()
        configure_logging(config.observability.log_level)
        _APP = LambdaApp(config)
    return _APP


def handle(event: Mapping[str, object], context: LambdaContext) -> JsonDict:
    """The Lambda handler.

    Args:
        event: An SQS event (records of S3 notifications or continuations) or a direct S3 event.
        context: The Lambda context.

    Returns:
        ``{"batchItemFailures": [...]}`` for SQS events; a per-object summary for S3 events.

    Raises:
        EventError: Unknown event shape.
        ConfigError: Invalid configuration in the environment.
        RuntimeError: A direct S3 event's object failed with no queue to hand it to.
    """
    return app().invoke(event, context)
