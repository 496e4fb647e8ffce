"""pytest plugin: real Elasticsearch and moto for integration tests.

Stage: test harness. Loaded by `tests/conftest.py` (`pytest_plugins = ["tests.services.fixtures"]`)
or with `-p tests.services.fixtures`. Must not import `recall_fast`: the harness has to work
before the extension is built.

Why session scope: an Elasticsearch node takes 10-40 s to start, moto about 0.5 s. Tests share
them and isolate by unique index, bucket and queue names instead. Tests that stop a node or need
special node settings get their own from `es_node_factory`.

Why the env overrides: `scripts/services up` keeps both services running between pytest runs;
`eval "$(scripts/services env)"` sets RECALL_ES_URL and RECALL_AWS_ENDPOINT_URL and the fixtures
reuse them instead of paying the start-up again. The environment is read here, at the edge.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from aiobotocore.session import AioSession, get_session
from elasticsearch import Elasticsearch

from tests.services.elasticsearch import DEFAULT_HEAP_MB, ElasticsearchNode, SettingValue
from tests.services.moto import AWS_ACCESS_KEY_ID, AWS_REGION, AWS_SECRET_ACCESS_KEY, MotoServer
from tests.services.tls_proxy import TlsProxy, make_pki

ES_URL_ENV = "RECALL_ES_URL"
AWS_ENDPOINT_URL_ENV = "RECALL_AWS_ENDPOINT_URL"
JAVA_HOME_ENV = "RECALL_ES_JAVA_HOME"


async def route_bucket_to_queue(s3: Any, sqs: Any, bucket: str, queue_url: str) -> None:
    """Send the bucket's ObjectCreated notifications to the queue, as an operator would on AWS.

    Args:
        s3: aiobotocore S3 client.
        sqs: aiobotocore SQS client.
        bucket: Existing bucket.
        queue_url: Existing queue.
    """
    attributes = await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    await s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {"QueueArn": attributes["Attributes"]["QueueArn"], "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker for tests that need the real services."""
    config.addinivalue_line(
        "markers", "integration: needs real Elasticsearch and moto (tests/services)"
    )


def _java_home_override() -> Path | None:
    """Return the JDK named by RECALL_ES_JAVA_HOME, if set."""
    value = os.environ.get(JAVA_HOME_ENV)
    return Path(value) if value else None


class ElasticsearchNodeFactory:
    """Starts dedicated nodes for one test and closes all of them when it ends.

    For tests that stop or crash a node, or need node settings the shared node lacks (a tiny
    `thread_pool.write.queue_size` to provoke 429s). Each call costs a full node start.
    """

    def __init__(self, java_home: Path | None) -> None:
        """Remember the JDK for the nodes to come.

        Args:
            java_home: JDK override passed to every node (None: auto-detect).
        """
        self._java_home = java_home
        self._nodes: list[ElasticsearchNode] = []

    def __call__(
        self,
        *,
        settings: Mapping[str, SettingValue] | None = None,
        heap_mb: int = DEFAULT_HEAP_MB,
    ) -> ElasticsearchNode:
        """Start a new node and return it once its health is yellow.

        Args:
            settings: Extra node settings for elasticsearch.yml.
            heap_mb: JVM heap.

        Returns:
            The running node; `stop()`/`start()` it freely, closing is taken care of.

        Raises:
            ServiceStartError: The node did not start (message has the log tail).
        """
        node = ElasticsearchNode(settings=settings, heap_mb=heap_mb, java_home=self._java_home)
        self._nodes.append(node)
        node.start()
        return node

    def close_all(self) -> None:
        """Close every node this factory started, even when one of them fails to close."""
        errors: list[BaseException] = []
        for node in reversed(self._nodes):
            try:
                node.close()
            except Exception as error:  # keep closing the others; re-raised below
                errors.append(error)
        self._nodes.clear()
        if errors:
            raise errors[0]


@pytest.fixture(scope="session")
def es_node() -> Iterator[ElasticsearchNode]:
    """The shared Elasticsearch node: RECALL_ES_URL if set, else one started for the session.

    Do not stop it (it may be attached to an external node); use `es_node_factory` for that.
    """
    url = os.environ.get(ES_URL_ENV)
    if url:
        yield ElasticsearchNode.attach(url)
        return
    node = ElasticsearchNode(java_home=_java_home_override())
    try:
        node.start()
        yield node
    finally:
        node.close()


@pytest.fixture
def es_node_factory() -> Iterator[ElasticsearchNodeFactory]:
    """Start dedicated, stoppable nodes for one test; all are closed afterwards."""
    factory = ElasticsearchNodeFactory(_java_home_override())
    try:
        yield factory
    finally:
        factory.close_all()


@pytest.fixture
def es_client(es_node: ElasticsearchNode) -> Iterator[Elasticsearch]:
    """A sync elasticsearch-py client for the shared node, closed after the test."""
    client = Elasticsearch(es_node.url, request_timeout=30)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """The shared moto server: RECALL_AWS_ENDPOINT_URL if set, else one started for the session.

    State persists across tests: use unique bucket and queue names (or `moto_server.reset()`).
    """
    url = os.environ.get(AWS_ENDPOINT_URL_ENV)
    if url:
        yield MotoServer.attach(url)
        return
    server = MotoServer()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def aws_env(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point code that reads the AWS environment (config.from_env, the CLI) at moto.

    Also clears AWS_PROFILE so a developer's ~/.aws profile cannot leak into a test.

    Returns:
        The variables set: AWS_ENDPOINT_URL, dummy credentials, AWS_DEFAULT_REGION.
    """
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    env = moto_server.env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.fixture
def aws_session() -> AioSession:
    """An aiobotocore session with moto's dummy credentials and region.

    Clients still need `endpoint_url=moto_server.url`: botocore reads AWS_ENDPOINT_URL only from
    the environment or a config file, never from session variables.
    """
    session = get_session()
    session.set_credentials(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)
    session.set_config_variable("region", AWS_REGION)
    return session


@pytest.fixture(scope="session")
def es_tls_proxy(
    es_node: ElasticsearchNode, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TlsProxy]:
    """nginx terminating HTTPS with mandatory client certificates in front of `es_node`.

    `es_tls_proxy.pki` has the CA to trust, the client pair it accepts and a client pair of a
    CA it does not trust. Stopped at the end of the session.
    """
    directory = tmp_path_factory.mktemp("tls-proxy")
    proxy = TlsProxy(es_node.url, directory, make_pki(directory / "pki"))
    try:
        proxy.start()
        yield proxy
    finally:
        proxy.stop()
