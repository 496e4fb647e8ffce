"""The services harness works, and the service behaviours the product relies on hold.

Stage: tests of tests/services. Each test pins one fact later code builds on: a document
indexed on the integ-test-zip node is searchable, moto serves ranged GETs, S3 notifications
reach SQS URL-encoded after a test event, and SQS redrives to a DLQ after maxReceiveCount.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import unquote_plus

import pytest
from aiobotocore.session import AioSession
from botocore.exceptions import ClientError
from elasticsearch import Elasticsearch

from tests.services.elasticsearch import MIN_JAVA_MAJOR, find_java_home, java_major_version
from tests.services.fixtures import ElasticsearchNodeFactory
from tests.services.moto import MotoServer

pytestmark = pytest.mark.integration


def _name(prefix: str) -> str:
    """A unique, S3/SQS/ES-safe name: tests share one node and one moto account."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_java_discovery_picks_a_supported_jdk() -> None:
    java_home = find_java_home()
    major = java_major_version(java_home)
    assert major is not None
    assert major >= MIN_JAVA_MAJOR


def test_es_index_and_search(es_client: Elasticsearch) -> None:
    index = _name("services-test")
    es_client.indices.create(
        index=index,
        settings={"number_of_shards": 1, "number_of_replicas": 0},
        mappings={"properties": {"message": {"type": "text"}, "port": {"type": "integer"}}},
    )
    try:
        es_client.index(
            index=index,
            id="doc-1",
            document={"message": "zeek conn log", "port": 443},
            refresh=True,
        )
        result = es_client.search(index=index, query={"match": {"message": "conn"}})
        hits = result["hits"]["hits"]
        assert [hit["_id"] for hit in hits] == ["doc-1"]
        assert hits[0]["_source"] == {"message": "zeek conn log", "port": 443}
        assert es_client.cluster.health(index=index)["status"] == "green"
    finally:
        es_client.indices.delete(index=index)


def test_es_root_endpoint_is_absent(es_client: Elasticsearch) -> None:
    """The integ-test-zip lacks the rest-root module: `GET /` is a 405, so `ping()` is False.

    Readiness checks must use `_cluster/health`, never `ping()` or `info()`.
    """
    assert es_client.ping() is False
    assert es_client.cluster.health()["status"] in {"yellow", "green"}


@pytest.mark.slow
def test_es_node_restarts_on_same_data_with_extra_settings(
    es_node_factory: ElasticsearchNodeFactory,
) -> None:
    node = es_node_factory(settings={"thread_pool.write.queue_size": 2})
    url = node.url
    with Elasticsearch(url, request_timeout=30) as client:
        settings = client.nodes.info(node_id="_local", metric="settings")
        (info,) = settings["nodes"].values()
        assert info["settings"]["thread_pool"]["write"]["queue_size"] == "2"
        client.index(index="survivor", id="1", document={"n": 1}, refresh=True)

    # A crash (SIGKILL) must not lose an acknowledged, refreshed document.
    node.stop(force=True)
    assert node.pid is None
    node.start()

    assert node.url == url
    with Elasticsearch(url, request_timeout=30) as client:
        client.cluster.health(index="survivor", wait_for_status="yellow", timeout="30s")
        assert client.get(index="survivor", id="1")["_source"] == {"n": 1}


async def test_s3_put_list_get_and_range_get(
    aws_session: AioSession, moto_server: MotoServer
) -> None:
    bucket = _name("bucket")
    body = b"0123456789abcdef"
    async with aws_session.create_client("s3", endpoint_url=moto_server.url) as s3:
        await s3.create_bucket(Bucket=bucket)
        await s3.put_object(Bucket=bucket, Key="zeek/conn.log", Body=body)

        listing = await s3.list_objects_v2(Bucket=bucket, Prefix="zeek/")
        assert [(obj["Key"], obj["Size"]) for obj in listing["Contents"]] == [
            ("zeek/conn.log", len(body))
        ]

        response = await s3.get_object(Bucket=bucket, Key="zeek/conn.log")
        async with response["Body"] as stream:
            assert await stream.read() == body

        ranged = await s3.get_object(Bucket=bucket, Key="zeek/conn.log", Range="bytes=4-7")
        assert ranged["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert ranged["ContentRange"] == f"bytes 4-7/{len(body)}"
        async with ranged["Body"] as stream:
            assert await stream.read() == b"4567"

        with pytest.raises(ClientError) as excinfo:
            await s3.get_object(Bucket=bucket, Key="zeek/conn.log", Range="bytes=100-200")
        assert excinfo.value.response["Error"]["Code"] == "InvalidRange"


async def _queue_arn(sqs: Any, queue_url: str) -> str:
    """The ARN other services (S3 notifications, redrive policies) address the queue by."""
    attributes = await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    arn: str = attributes["Attributes"]["QueueArn"]
    return arn


async def _receive_bodies(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Long-poll once, delete what arrived and return the parsed bodies."""
    received = await sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=5
    )
    messages = received.get("Messages", [])
    for message in messages:
        await sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(message["Body"]) for message in messages]


async def test_s3_upload_arrives_on_sqs_url_encoded(
    aws_session: AioSession, moto_server: MotoServer
) -> None:
    bucket = _name("notify")
    key = "zeek/2024-05-01/conn 12:00:00+0000.log.gz"
    async with (
        aws_session.create_client("s3", endpoint_url=moto_server.url) as s3,
        aws_session.create_client("sqs", endpoint_url=moto_server.url) as sqs,
    ):
        queue_url = (await sqs.create_queue(QueueName=_name("notify")))["QueueUrl"]
        await s3.create_bucket(Bucket=bucket)
        await s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "QueueConfigurations": [
                    {
                        "QueueArn": await _queue_arn(sqs, queue_url),
                        "Events": ["s3:ObjectCreated:*"],
                    }
                ]
            },
        )
        # S3 (and moto) announce a new notification configuration with a test event first;
        # consumers must skip it.
        (test_event,) = await _receive_bodies(sqs, queue_url)
        assert test_event["Event"] == "s3:TestEvent"
        assert test_event["Bucket"] == bucket

        await s3.put_object(Bucket=bucket, Key=key, Body=b"gzip bytes")
        (notification,) = await _receive_bodies(sqs, queue_url)
        (record,) = notification["Records"]
        assert record["eventName"].startswith("ObjectCreated:")
        assert record["s3"]["bucket"]["name"] == bucket
        encoded_key = record["s3"]["object"]["key"]
        assert encoded_key != key
        assert unquote_plus(encoded_key) == key


async def test_sqs_redrive_to_dead_letter_queue(
    aws_session: AioSession, moto_server: MotoServer
) -> None:
    max_receive_count = 2
    async with aws_session.create_client("sqs", endpoint_url=moto_server.url) as sqs:
        dlq_url = (await sqs.create_queue(QueueName=_name("dlq")))["QueueUrl"]
        redrive = {
            "deadLetterTargetArn": await _queue_arn(sqs, dlq_url),
            "maxReceiveCount": str(max_receive_count),
        }
        queue_url = (
            await sqs.create_queue(
                QueueName=_name("work"), Attributes={"RedrivePolicy": json.dumps(redrive)}
            )
        )["QueueUrl"]
        await sqs.send_message(QueueUrl=queue_url, MessageBody="poison")

        # Each receive without a delete counts; visibility 0 makes it visible again at once.
        for expected_count in range(1, max_receive_count + 1):
            received = await sqs.receive_message(
                QueueUrl=queue_url,
                VisibilityTimeout=0,
                WaitTimeSeconds=1,
                MessageSystemAttributeNames=["ApproximateReceiveCount"],
            )
            (message,) = received["Messages"]
            assert message["Body"] == "poison"
            assert message["Attributes"]["ApproximateReceiveCount"] == str(expected_count)

        # One receive past maxReceiveCount moves it to the DLQ instead of delivering it.
        received = await sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)
        assert received.get("Messages", []) == []

        dead = await sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=5)
        assert [message["Body"] for message in dead["Messages"]] == ["poison"]
