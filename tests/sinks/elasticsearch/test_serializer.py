"""The bulk body serializer: pre-encoded bodies go to the HTTP client with at most one copy."""

from __future__ import annotations

import asyncio

from recall_fast.config import ElasticsearchConfig
from recall_fast.sinks.elasticsearch.sink import BulkBodySerializer, ElasticsearchClients


def test_pre_encoded_bodies_are_sent_as_bytes() -> None:
    serializer = BulkBodySerializer()
    body = b'{"create":{"_index":"i","_id":"a"}}\n{"n":1}\n'
    assert serializer.dumps(body) is body
    sent = serializer.dumps(memoryview(body))
    assert type(sent) is bytes
    assert sent == body


def test_other_data_is_still_serialised_as_ndjson() -> None:
    serializer = BulkBodySerializer()
    assert serializer.dumps([{"create": {"_index": "i"}}, {"n": 1}]) == (
        b'{"create":{"_index":"i"}}\n{"n":1}\n'
    )
    assert serializer.loads(b'{"a":1}\n{"b":2}\n') == [{"a": 1}, {"b": 2}]


def test_clients_use_it_for_ndjson() -> None:
    clients = ElasticsearchClients(ElasticsearchConfig(urls=("http://localhost:9200",)))
    (client,) = clients.all()
    serializers = client.transport.serializers
    assert isinstance(serializers.get_serializer("application/x-ndjson"), BulkBodySerializer)
    assert isinstance(
        serializers.get_serializer("application/vnd.elasticsearch+x-ndjson"), BulkBodySerializer
    )
    asyncio.run(clients.aclose())
