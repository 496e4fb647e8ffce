"""SQS source: retry policy (pure) and message settlement against moto."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import pytest

from recall_fast.config import QueueConfig
from recall_fast.metrics import Metrics, RateLimitedLogger
from recall_fast.sources.events import continuation_body, notification_body, parse_notification
from recall_fast.sources.s3 import S3Reader
from recall_fast.sources.sqs import (
    Disposition,
    ReceivedMessage,
    SqsSource,
    dead_letter_attributes,
    retry_decision,
)
from recall_fast.types import ObjectCounts, ObjectRef, Outcome, OutcomeKind, Resume
from tests.services.fixtures import route_bucket_to_queue


@pytest.mark.parametrize(
    ("count", "delay"), [(0, 300), (1, 300), (2, 900), (3, 2700), (4, None), (9, None)]
)
def test_retry_decision(count, delay):
    decision = retry_decision(count, (300, 900, 2700))
    assert decision.delay_s == delay
    assert decision.dead_letter is (delay is None)


def test_retry_decision_without_delays_dead_letters_at_once():
    assert retry_decision(1, ()).dead_letter


def test_notification_body_round_trip():
    ref = ObjectRef("b", "acme/s 1/conn.10:00+x.log.gz", "etag1", 10)
    assert parse_notification(notification_body(ref)).objects == (ref,)
    versioned = ObjectRef("b", "k/x", "v1", None, version_id="v1")
    assert parse_notification(notification_body(versioned)).objects == (versioned,)


def test_continuation_round_trip():
    ref = ObjectRef("b", "acme/x.log", "e", 5)
    resume = Resume({0: 40960}, False, 2)
    note = parse_notification(continuation_body(ref, resume))
    assert note.objects == (ref,)
    assert note.resume_of(0) == resume
    assert note.resume_of(1) is None


def test_dead_letter_attributes():
    attrs = dead_letter_attributes("x" * 5000, "not_a_zeek_log", 3, "q")
    assert len(attrs["recall_reason"]["StringValue"]) == 1024
    assert attrs["recall_receive_count"] == {"DataType": "Number", "StringValue": "3"}


def test_from_lambda_record():
    message = ReceivedMessage.from_lambda_record(
        {
            "messageId": "m",
            "receiptHandle": "r",
            "body": "{}",
            "attributes": {"ApproximateReceiveCount": "2", "SentTimestamp": "1000"},
        }
    )
    assert (message.message_id, message.receive_count, message.sent_at_s) == ("m", 2, 1.0)


# --- against moto -------------------------------------------------------------------------


def s3_event(bucket: str, key: str) -> str:
    return notification_body(ObjectRef(bucket, key, "etag", 3))


class Queues:
    def __init__(self, sqs, url: str, dlq: str) -> None:
        self.sqs, self.url, self.dlq = sqs, url, dlq

    async def depth(self, url: str | None = None) -> tuple[int, int]:
        attrs = await self.sqs.get_queue_attributes(
            QueueUrl=url or self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )
        a = attrs["Attributes"]
        return int(a["ApproximateNumberOfMessages"]), int(
            a["ApproximateNumberOfMessagesNotVisible"]
        )


@pytest.fixture
async def sqs(aws_session, moto_server):
    async with aws_session.create_client("sqs", endpoint_url=moto_server.url) as client:
        yield client


@pytest.fixture
async def s3(aws_session, moto_server):
    async with aws_session.create_client("s3", endpoint_url=moto_server.url) as client:
        yield client


@pytest.fixture
async def queues(sqs):
    name = f"q-{uuid.uuid4().hex[:10]}"
    dlq = (await sqs.create_queue(QueueName=f"{name}-dlq"))["QueueUrl"]
    url = (await sqs.create_queue(QueueName=name))["QueueUrl"]
    yield Queues(sqs, url, dlq)
    for u in (url, dlq):
        await sqs.delete_queue(QueueUrl=u)


def make_source(sqs, s3, queues, **overrides):
    settled: list[Disposition] = []
    config = QueueConfig(
        queue_url=queues.url,
        dead_letter_queue_url=queues.dlq,
        wait_time_s=1,
        visibility_timeout_s=overrides.pop("visibility_timeout_s", 30),
        retry_delays_s=overrides.pop("retry_delays_s", (1.0, 2.0)),
        max_messages_in_flight=overrides.pop("max_messages_in_flight", 4),
    )
    source = SqsSource(
        sqs,
        config,
        S3Reader(s3, chunk_bytes=1024, timeout_s=10),
        metrics=Metrics(),
        log=RateLimitedLogger(logging.getLogger("recall_fast.test"), rate_per_s=100, burst=100),
        request_timeout_s=10,
        on_settled=lambda m, d: settled.append(d),
        **overrides,
    )
    return source, settled


async def take(source: SqsSource, n: int, timeout_s: float = 10.0):
    out = []
    gen = source.deliveries()
    try:
        async with asyncio.timeout(timeout_s):
            async for delivery in gen:
                out.append(delivery)
                if len(out) == n:
                    break
    finally:
        await gen.aclose()
    return out


def outcome(ref, kind=OutcomeKind.DONE, **kw):
    return Outcome(kind, ref, "acme", ObjectCounts(), **kw)


@pytest.mark.integration
async def test_done_deletes_and_test_events_are_dropped(sqs, s3, queues):
    await sqs.send_message(QueueUrl=queues.url, MessageBody=json.dumps({"Event": "s3:TestEvent"}))
    await sqs.send_message(QueueUrl=queues.url, MessageBody=s3_event("b", "acme/x:y.log"))
    source, settled = make_source(sqs, s3, queues)
    (delivery,) = await take(source, 1)
    assert delivery.ref.key == "acme/x:y.log"
    assert delivery.deadline is not None
    assert source.held_count == 1
    await delivery.ack.settle(outcome(delivery.ref))
    assert settled == [Disposition.DELETED, Disposition.DELETED]
    assert await queues.depth() == (0, 0)
    assert source.held_count == 0


@pytest.mark.integration
async def test_garbage_goes_to_dlq_at_once_with_reason(sqs, s3, queues):
    await sqs.send_message(QueueUrl=queues.url, MessageBody="this is not json")
    source, settled = make_source(sqs, s3, queues)
    source_task = asyncio.create_task(take(source, 1, timeout_s=3))
    with pytest.raises(TimeoutError):
        await source_task
    assert settled == [Disposition.DEAD_LETTERED]
    got = await sqs.receive_message(
        QueueUrl=queues.dlq, MessageAttributeNames=["All"], WaitTimeSeconds=1
    )
    (message,) = got["Messages"]
    assert message["Body"] == "this is not json"
    assert message["MessageAttributes"]["recall_error_type"]["StringValue"] == "not_a_notification"
    assert await queues.depth() == (0, 0)


@pytest.mark.integration
async def test_retry_delays_then_dead_letter(sqs, s3, queues):
    await sqs.send_message(QueueUrl=queues.url, MessageBody=s3_event("b", "acme/a.log"))
    source, settled = make_source(sqs, s3, queues, retry_delays_s=(1.0, 1.0))
    loop = asyncio.get_running_loop()
    for attempt in (1, 2, 3):
        started = loop.time()
        (delivery,) = await take(source, 1)
        if attempt > 1:
            assert loop.time() - started >= 0.5  # waited out the visibility delay
        await delivery.ack.settle(
            outcome(delivery.ref, OutcomeKind.RETRY, reason="es down", error_type="transient")
        )
    assert settled == [Disposition.DELAYED, Disposition.DELAYED, Disposition.DEAD_LETTERED]
    got = await sqs.receive_message(
        QueueUrl=queues.dlq, MessageAttributeNames=["All"], WaitTimeSeconds=1
    )
    attrs = got["Messages"][0]["MessageAttributes"]
    assert attrs["recall_error_type"]["StringValue"] == "retries_exhausted"
    assert "es down" in attrs["recall_reason"]["StringValue"]
    assert attrs["recall_receive_count"]["StringValue"] == "3"
    assert await queues.depth() == (0, 0)


@pytest.mark.integration
async def test_reject_dead_letters_whole_message(sqs, s3, queues):
    body = json.dumps(
        {
            "Records": [
                json.loads(s3_event("b", "acme/a.log"))["Records"][0],
                json.loads(s3_event("b", "acme/b.log"))["Records"][0],
            ]
        }
    )
    await sqs.send_message(QueueUrl=queues.url, MessageBody=body)
    source, settled = make_source(sqs, s3, queues)
    first, second = await take(source, 2)
    assert first.ack is second.ack
    await first.ack.settle(outcome(first.ref))
    assert settled == []  # waits for the second object
    await second.ack.settle(
        outcome(
            second.ref, OutcomeKind.REJECT, reason="not a Zeek log", error_type="not_a_zeek_log"
        )
    )
    assert settled == [Disposition.DEAD_LETTERED]


@pytest.mark.integration
async def test_partial_sends_continuation_and_fans_out(sqs, s3, queues):
    await sqs.send_message(QueueUrl=queues.url, MessageBody=s3_event("b", "acme/a.log"))
    source, settled = make_source(sqs, s3, queues, fan_out_parts=True, max_continuations=5)
    (delivery,) = await take(source, 1)
    resume = Resume({1: (1 << 40) + 7, 2: 2 << 40}, True, 1)
    await delivery.ack.settle(outcome(delivery.ref, OutcomeKind.PARTIAL, resume=resume))
    assert settled == [Disposition.CONTINUED]
    continued = await take(source, 2)
    assert sorted(tuple(d.resume.parts.items()) for d in continued) == [
        ((1, (1 << 40) + 7),),
        ((2, 2 << 40),),
    ]
    for d in continued:
        await d.ack.settle(
            outcome(d.ref, OutcomeKind.PARTIAL, resume=Resume(dict(d.resume.parts), True, 6))
        )
    assert settled[1:] == [Disposition.DELAYED, Disposition.DELAYED]  # hops > 5: no progress


@pytest.mark.integration
async def test_heartbeat_keeps_message_invisible_and_release(sqs, s3, queues):
    await sqs.send_message(QueueUrl=queues.url, MessageBody=s3_event("b", "acme/a.log"))
    source, _ = make_source(sqs, s3, queues, visibility_timeout_s=2)
    (_delivery,) = await take(source, 1)
    heartbeat = asyncio.create_task(source.heartbeat())
    try:
        await asyncio.sleep(4.5)  # more than twice the visibility timeout
        other, _ = make_source(sqs, s3, queues)
        got = await sqs.receive_message(QueueUrl=queues.url, WaitTimeSeconds=1)
        assert "Messages" not in got
        assert other.held_count == 0
    finally:
        heartbeat.cancel()
    assert await source.release_held() == 1
    got = await sqs.receive_message(QueueUrl=queues.url, WaitTimeSeconds=2)
    assert len(got["Messages"]) == 1


@pytest.mark.integration
async def test_real_s3_notification_key_is_decoded_and_readable(sqs, s3, queues):
    # S3 (moto, like AWS) URL-encodes the key in the notification: space as '+', '+' as %2B,
    # UTF-8 as %XX. The delivery must name the real key, or the GET would miss the object.
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    key = "acme/sensor 1/c++ café=1.log"
    await s3.create_bucket(Bucket=bucket)
    await route_bucket_to_queue(s3, sqs, bucket, queues.url)
    await s3.put_object(Bucket=bucket, Key=key, Body=b"#separator \\x09\n")
    source, _ = make_source(sqs, s3, queues)
    (delivery,) = await take(source, 1)
    assert delivery.ref.key == key
    chunks = [c async for c in S3Reader(s3, chunk_bytes=1024, timeout_s=10).stream(delivery.ref)]
    assert b"".join(chunks) == b"#separator \\x09\n"
    await delivery.ack.settle(outcome(delivery.ref))
    await s3.delete_object(Bucket=bucket, Key=key)
    await s3.delete_bucket(Bucket=bucket)
