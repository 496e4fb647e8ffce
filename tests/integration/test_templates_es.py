"""The generated index templates on a real Elasticsearch node, with every real Zeek record.

Installs the templates (server core only: the integration-test distribution), indexes EVERY
record of ``../shared/data/zeek`` through the fused processor for two tenants, and checks:
zero rejected documents, ``_count`` per index equals the decoded record count, a sample read
back equals what was sent, the live mapping has exactly the types the schema says (nothing
mapped dynamically by surprise), and re-sending bodies leaves every count unchanged.

Isolation on the shared node: a unique index-pattern prefix and template-name prefix per test
run, deleted afterwards.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from elasticsearch import Elasticsearch

from recall_fast import _native
from recall_fast.cli import templates as cli_templates

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FEED_BYTES = 1 << 20


def zeek_files(root: Path) -> list[Path]:
    """Every log file of the shared data set (TSV and JSON, any depth)."""
    return sorted(p for p in root.rglob("*.gz") if p.is_file())


def flatten(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """``{"a": {"properties": {"b": {"type": "ip"}}}}`` -> ``{"a.b": "ip"}``."""
    out: dict[str, str] = {}
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        if "properties" in spec:
            out.update(flatten(spec["properties"], f"{path}."))
        else:
            out[path] = spec.get("type", "object")
    return out


def action_index(line: bytes) -> str:
    """The ``_index`` of an action line."""
    return line.split(b'"_index":"', 1)[1].split(b'"', 1)[0].decode()


class Run:
    """One isolated deployment on the shared node: prefix, tenants, templates."""

    def __init__(self, es: Elasticsearch) -> None:
        self.es = es
        self.prefix = f"it{uuid.uuid4().hex[:8]}"
        self.pattern = f"{self.prefix}-<tenant>-zeek.<logtype>-<yyyy.MM.dd>"
        # Tenant names whose index names could be confused if routing were sloppy.
        self.tenants = ("alpha", "alpha-beta")
        self.templates = cli_templates.generate(
            index_pattern=self.pattern, replicas=0, name_prefix=self.prefix
        )

    def processor(self, tenant: str, key: str) -> _native.ZeekProcessor:
        return _native.ZeekProcessor(
            tenant, "recall-it", key, "v1", "sensor-1", index_pattern=self.pattern
        )

    def bulk(self, body: bytes) -> dict[str, Any]:
        response = self.es.bulk(operations=body, refresh=False)
        return dict(response.body)

    def cleanup(self) -> None:
        self.es.indices.delete(index=f"{self.prefix}-*", ignore_unavailable=True)
        for name in self.templates["index_templates"]:
            self.es.indices.delete_index_template(name=name)
        for name in self.templates["component_templates"]:
            self.es.cluster.delete_component_template(name=name)


@pytest.fixture
def run(es_client: Elasticsearch) -> Iterator[Run]:
    r = Run(es_client)
    try:
        yield r
    finally:
        r.cleanup()


def failed_items(response: dict[str, Any]) -> list[dict[str, Any]]:
    """Bulk items that were not indexed."""
    bad = []
    for item in response["items"]:
        result = next(iter(item.values()))
        if result.get("status", 500) >= 300:
            bad.append(result)
    return bad


def test_templates_install_and_every_real_record_indexes(run: Run, shared_zeek: Path) -> None:
    installed = cli_templates.install(run.es, run.templates)
    assert len(installed) == len(run.templates["component_templates"]) + len(
        run.templates["index_templates"]
    )

    expected_counts: Counter[str] = Counter()
    expected_mappings: dict[str, dict[str, str]] = {}
    samples: dict[str, tuple[str, dict[str, Any]]] = {}
    resend: list[bytes] = []
    resend_bytes = 0
    decoded_total = 0
    files = zeek_files(shared_zeek)
    assert len(files) > 100

    for tenant in run.tenants:
        for path in files:
            key = f"{tenant}/sensor-1/{path.relative_to(shared_zeek)}"
            processor = run.processor(tenant, key)
            data = path.read_bytes()
            chunks = []
            for start in range(0, len(data), FEED_BYTES):
                chunks.extend(processor.feed(data[start : start + FEED_BYTES]))
            chunks.extend(processor.finish())
            stats = processor.stats
            assert stats["records"] == stats["documents"], (path, stats)
            assert processor.take_rejected() == []
            decoded_total += stats["records"]
            for chunk in chunks:
                response = run.bulk(bytes(chunk.body))
                assert failed_items(response) == [], (path, failed_items(response)[:3])
                lines = bytes(chunk.body).split(b"\n")
                for action in lines[0:-1:2]:
                    expected_counts[action_index(action)] += 1
                # Sample: first and last document of every body.
                for i in (0, chunk.n_docs - 1):
                    action, source = lines[2 * i], lines[2 * i + 1]
                    samples[chunk.ids[i]] = (action_index(action), orjson.loads(source))
                if resend_bytes < 40 << 20 and chunk.log_type in {"conn", "dns", "http"}:
                    resend.append(bytes(chunk.body))
                    resend_bytes += len(chunk.body)
            if stats["records"]:
                log_type = chunks[0].log_type
                mapping = flatten(json.loads(processor.document_mapping()))
                expected_mappings.setdefault(log_type, {}).update(mapping)

    run.es.indices.refresh(index=f"{run.prefix}-*")

    # _count of every index equals the documents routed to it; the total is every record.
    assert sum(expected_counts.values()) == decoded_total
    for index, count in sorted(expected_counts.items()):
        assert run.es.count(index=index)["count"] == count, index
    # Tenants never share an index.
    for index in expected_counts:
        owners = [t for t in run.tenants if index.startswith(f"{run.prefix}-{t}-zeek.")]
        assert len(owners) == 1, index

    # A sample read back equals what was sent.
    ids = list(samples)
    for start in range(0, len(ids), 500):
        docs = [{"_index": samples[i][0], "_id": i} for i in ids[start : start + 500]]
        got = run.es.mget(docs=docs)["docs"]
        for doc in got:
            assert doc["found"], doc["_id"]
            assert doc["_source"] == samples[doc["_id"]][1], doc["_id"]

    # The live mapping has the schema's types: every field is either mapped by the templates
    # (with the type the documents' Zeek types call for) or, for a field the registry does not
    # know, mapped dynamically to exactly that type too. Nothing surprising.
    ecs = flatten(
        run.templates["component_templates"][f"{run.prefix}-zeek-ecs"]["template"]["mappings"][
            "properties"
        ]
    )
    mappings = run.es.indices.get_mapping(index=f"{run.prefix}-*")
    for index, body in mappings.items():
        log_type = index.split("-zeek.", 1)[1].rsplit("-", 1)[0]
        template = run.templates["index_templates"].get(f"{run.prefix}-zeek.{log_type}", {})
        templated = dict(ecs)
        templated.update(
            flatten(template.get("template", {}).get("mappings", {}).get("properties", {}))
        )
        want = expected_mappings[log_type]
        for path, es_type in flatten(body["mappings"]["properties"]).items():
            if path in templated:
                assert es_type == templated[path], f"{index}: {path}"
                if path in want:
                    assert want[path] == es_type, f"{index}: {path}: document needs {want[path]}"
            else:
                assert path in want, f"{index}: {path} ({es_type}) is not a document field"
                assert es_type == want[path], (
                    f"{index}: {path} was mapped dynamically as {es_type}, Zeek type says "
                    f"{want[path]}"
                )

    # Re-sending bodies (redelivery) leaves every count unchanged: with the default action
    # `create` every resent document answers 409 (already indexed), which the sink counts as
    # success; nothing else may fail.
    for body in resend:
        again = failed_items(run.bulk(body))
        assert [item for item in again if item.get("status") != 409] == []
        assert len(again) == body.count(b"\n") // 2
    run.es.indices.refresh(index=f"{run.prefix}-*")
    for index, count in sorted(expected_counts.items()):
        assert run.es.count(index=index)["count"] == count, index


def test_counts_above_i64_still_index(run: Run, fixtures_dir: Path) -> None:
    """A count of 2^64-1 is kept exactly in _source and the document is indexed."""
    cli_templates.install(run.es, run.templates)
    header = (fixtures_dir / "ecs" / "conn.wrccdc.log").read_bytes().split(b"\n")
    head = b"\n".join(line for line in header if line.startswith(b"#")) + b"\n"
    row = next(line for line in header if line and not line.startswith(b"#")).split(b"\t")
    row[9] = b"18446744073709551615"  # orig_bytes
    data = head + b"\t".join(row) + b"\n"
    tenant = run.tenants[0]
    processor = run.processor(tenant, f"{tenant}/sensor-1/conn.log")
    chunks = processor.feed(data) + processor.finish()
    assert len(chunks) == 1
    response = run.bulk(bytes(chunks[0].body))
    assert failed_items(response) == []
    index = chunks[0].index_names[0]
    run.es.indices.refresh(index=index)
    hits = run.es.search(index=index, query={"exists": {"field": "_ignored"}})["hits"]["hits"]
    assert len(hits) == 1
    source = hits[0]["_source"]
    assert source["zeek"]["conn"]["orig_bytes"] == 18446744073709551615
    assert "zeek.conn.orig_bytes" in hits[0]["_ignored"]
