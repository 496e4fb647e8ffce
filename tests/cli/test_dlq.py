"""``recall-fast dlq replay`` against a real Elasticsearch node."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from recall_fast.cli.main import main
from recall_fast.sinks.dead_letter import DeadLetterRecord, LocalDeadLetterStore
from recall_fast.types import ObjectRef

pytestmark = pytest.mark.integration


def record(index: str, i: int, doc: dict[str, object]) -> DeadLetterRecord:
    return DeadLetterRecord(
        tenant="acme",
        index=index,
        doc_id=f"dl-{i}",
        status=400,
        error_type="document_parsing_exception",
        reason="failed to parse",
        document=json.dumps(doc).encode(),
        source="s3://b/acme/x.log",
    )


def test_replay_keeps_ids_and_is_idempotent(es_node, es_client, tmp_path, capsys):
    index = f"recall-acme-replay-{uuid.uuid4().hex[:8]}"
    es_client.indices.create(
        index=index,
        settings={"number_of_replicas": 0},
        mappings={"properties": {"n": {"type": "long"}}},
    )
    store = LocalDeadLetterStore(tmp_path / "dlq")
    good = [record(index, i, {"n": i}) for i in range(30)]
    still_bad = [record(index, 99, {"n": "not a number"})]
    asyncio.run(store.put("acme", ObjectRef("b", "acme/x.log", "v"), good))
    asyncio.run(store.put("acme", ObjectRef("b", "acme/y.log", "v"), still_bad))
    url = es_node.url.replace("http://", "es://")
    argv = [
        "dlq",
        "replay",
        str(tmp_path / "dlq"),
        "--to",
        url,
        "--dead-letter-target",
        str(tmp_path / "again"),
    ]

    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["documents"] == 31
    assert summary["indexed"] == 30
    assert summary["dead_lettered"] == 1
    es_client.indices.refresh(index=index)
    assert es_client.count(index=index)["count"] == 30
    assert es_client.get(index=index, id="dl-7")["_source"] == {"n": 7}
    assert len(list((tmp_path / "again").rglob("*.ndjson"))) == 1

    assert main([*argv, "--delete-replayed"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["already_indexed"] == 30
    assert again["deleted_files"] == 1  # the good file; the still-bad one is kept
    assert len(list((tmp_path / "dlq").rglob("*.ndjson"))) == 1
    es_client.indices.refresh(index=index)
    assert es_client.count(index=index)["count"] == 30
    es_client.indices.delete(index=index)


def test_replay_missing_source_exits_2(tmp_path, capsys):
    assert main(["dlq", "replay", str(tmp_path / "none"), "--to", "es://127.0.0.1:9"]) == 2
