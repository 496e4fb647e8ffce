"""Destination parsing and bulk body slicing."""

from __future__ import annotations

from pathlib import Path

import pytest

from recall_fast.errors import ConfigError
from recall_fast.sinks.base import document_lines, es_url, parse_sink, select_items

BODY = (
    b'{"create":{"_id":"a"}}\n{"n":0}\n'
    b'{"create":{"_id":"b"}}\n{"n":1}\n'
    b'{"create":{"_id":"c"}}\n{"n":2}\n'
)


def test_parse_sink():
    assert parse_sink("es://127.0.0.1:9200").urls == ("http://127.0.0.1:9200",)
    assert parse_sink("es+https://a:9200,es://b:9200").urls == ("https://a:9200", "http://b:9200")
    assert parse_sink("https://x:9243").kind == "elasticsearch"
    assert parse_sink("parquet:out").path == Path("out")
    assert parse_sink("parquet:").path == Path("recall-data")
    assert parse_sink("ndjson:-").path is None
    assert parse_sink("ndjson:docs.ndjson").path == Path("docs.ndjson")
    assert parse_sink("null").kind == "null"
    for bad in ["kafka:x", "ndjson:", "es://", "ftp://x"]:
        with pytest.raises(ConfigError):
            parse_sink(bad) if bad != "es://" else es_url(bad)


def test_document_lines():
    assert document_lines(BODY) == b'{"n":0}\n{"n":1}\n{"n":2}\n'
    assert document_lines(b"") == b""


def test_select_items():
    assert (
        select_items(BODY, [2, 0])
        == b'{"create":{"_id":"c"}}\n{"n":2}\n{"create":{"_id":"a"}}\n{"n":0}\n'
    )
    assert select_items(BODY, []) == b""
