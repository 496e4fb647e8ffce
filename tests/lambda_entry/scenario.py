"""Shared set-up of the Lambda tests: a bucket, queues, real Zeek objects, SQS-shaped events.

Events are built the way the Lambda event source mapping builds them: from messages really
received from the (moto) queue, so receipt handles, receive counts and timestamps are real and
the handler's deletes and visibility changes act on real messages.
"""

from __future__ import annotations

import gzip
import time
import urllib.parse
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import orjson

REGION = "us-east-1"
#: The Lambda tests write to their own index family, with the product's templates installed for
#: exactly that family (`install_templates`), so the mapping is the real one (keyword
#: ``labels.source_object``...) without touching the indices of other tests in the session.
INDEX_PREFIX = "lambdatest"
INDEX_PATTERN = f"{INDEX_PREFIX}-<tenant>-zeek.<logtype>-<yyyy.MM.dd>"


@dataclass
class FakeContext:
    """A Lambda context whose deadline runs on the real monotonic clock."""

    remaining_s: float
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_name: str = "recall-fast-test"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.remaining_s

    def get_remaining_time_in_millis(self) -> int:
        return int((self._deadline - time.monotonic()) * 1000)


def data_rows(raw: bytes) -> int:
    """Records in a TSV Zeek log: data lines (not starting with '#', not empty)."""
    return sum(1 for line in raw.splitlines() if line and not line.startswith(b"#"))


def s3_notification(bucket: str, key: str, size: int, etag: str) -> dict[str, object]:
    """An S3 ObjectCreated notification as S3 sends it (key URL-encoded)."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2024-01-01T00:01:00.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {
                        "key": urllib.parse.quote_plus(key, safe="/"),
                        "size": size,
                        "eTag": etag,
                    },
                },
            }
        ]
    }


@dataclass
class Scenario:
    """A bucket and an ingest queue with a dead-letter queue, on the moto server."""

    endpoint: str
    bucket: str
    queue_url: str
    dlq_url: str
    queue_arn: str
    dead_letter_prefix: str

    @classmethod
    def create(cls, endpoint: str) -> Scenario:
        suffix = uuid.uuid4().hex[:10]
        s3 = _client("s3", endpoint)
        sqs = _client("sqs", endpoint)
        bucket = f"zeek-{suffix}"
        s3.create_bucket(Bucket=bucket)
        dlq_url = sqs.create_queue(QueueName=f"dlq-{suffix}")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        queue_url = sqs.create_queue(
            QueueName=f"ingest-{suffix}",
            Attributes={
                "VisibilityTimeout": "60",
                "RedrivePolicy": orjson.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 6}
                ).decode(),
            },
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        return cls(endpoint, bucket, queue_url, dlq_url, queue_arn, f"s3://{bucket}/dead-letter/")

    def environ(self, es_url: str, **extra: str) -> dict[str, str]:
        """RECALL_FAST_* variables as the template sets them, pointed at moto and ES."""
        return {
            "RECALL_FAST_S3__ENDPOINT_URL": self.endpoint,
            "RECALL_FAST_S3__REGION": REGION,
            "RECALL_FAST_ELASTICSEARCH__URLS": es_url,
            "RECALL_FAST_QUEUE__QUEUE_URL": self.queue_url,
            "RECALL_FAST_QUEUE__DEAD_LETTER_QUEUE_URL": self.dlq_url,
            "RECALL_FAST_DEAD_LETTER__TARGET": self.dead_letter_prefix,
            "RECALL_FAST_OBSERVABILITY__EMF": "true",
            "RECALL_FAST_OBSERVABILITY__EMF_NAMESPACE": "recall_fast/test",
            "RECALL_FAST_ELASTICSEARCH__INDEX_PATTERN": INDEX_PATTERN,
            **extra,
        }

    def put(self, key: str, body: bytes) -> dict[str, object]:
        """Upload an object; return its S3 notification."""
        response = _client("s3", self.endpoint).put_object(Bucket=self.bucket, Key=key, Body=body)
        return s3_notification(self.bucket, key, len(body), response["ETag"].strip('"'))

    def send(self, body: Mapping[str, object] | str) -> str:
        """Send a message body to the ingest queue; return its message id."""
        text = body if isinstance(body, str) else orjson.dumps(body).decode()
        return _client("sqs", self.endpoint).send_message(
            QueueUrl=self.queue_url, MessageBody=text
        )["MessageId"]

    def receive(self, queue_url: str | None = None, max_messages: int = 10) -> list[dict]:
        """Receive up to ``max_messages`` with all attributes (short poll, a few tries)."""
        sqs = _client("sqs", self.endpoint)
        out: list[dict] = []
        for _ in range(3):
            response = sqs.receive_message(
                QueueUrl=queue_url or self.queue_url,
                MaxNumberOfMessages=max_messages - len(out),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=1,
            )
            out += response.get("Messages", [])
            if len(out) >= max_messages or not response.get("Messages"):
                break
        return out

    def lambda_event(self, messages: list[dict]) -> dict[str, object]:
        """The SQS event the event source mapping would invoke the function with."""
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": dict(m.get("Attributes", {})),
                    "messageAttributes": {},
                    "md5OfBody": m.get("MD5OfBody", ""),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.queue_arn,
                    "awsRegion": REGION,
                }
                for m in messages
            ]
        }

    def queue_depth(self, queue_url: str | None = None) -> tuple[int, int]:
        """(visible, in flight) messages of a queue."""
        attrs = _client("sqs", self.endpoint).get_queue_attributes(
            QueueUrl=queue_url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]), int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )


def _client(service: str, endpoint: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def real_log(shared_zeek: Path, name: str) -> tuple[bytes, int]:
    """A real TSV Zeek log (gzip as stored) and its record count."""
    gz = (shared_zeek / "tsv" / name).read_bytes()
    return gz, data_rows(gzip.decompress(gz))


def install_templates(es_client) -> None:
    """Install the generated index templates for the test index family (idempotent)."""
    from recall_fast.cli.templates import generate, install

    install(
        es_client,
        generate(index_pattern=INDEX_PATTERN, replicas=0, name_prefix=INDEX_PREFIX),
    )


def es_count(es_client, tenant: str) -> int:
    """Documents of one tenant, after a refresh."""
    pattern = f"{INDEX_PREFIX}-{tenant}-*"
    es_client.indices.refresh(index=pattern, allow_no_indices=True, ignore_unavailable=True)
    return int(
        es_client.count(index=pattern, allow_no_indices=True, ignore_unavailable=True)["count"]
    )


def es_count_object(es_client, tenant: str, uri: str) -> int:
    """Documents of one source object (``labels.source_object``), after a refresh."""
    pattern = f"{INDEX_PREFIX}-{tenant}-*"
    es_client.indices.refresh(index=pattern, allow_no_indices=True, ignore_unavailable=True)
    query = {"term": {"labels.source_object": uri}}
    return int(
        es_client.count(index=pattern, query=query, allow_no_indices=True, ignore_unavailable=True)[
            "count"
        ]
    )
