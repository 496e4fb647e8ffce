"""Parsing filtered bulk responses."""

from __future__ import annotations

import pytest

from recall_fast.sinks.elasticsearch.response import BulkResponseError, parse_bulk_response


def test_no_errors_skips_items():
    result = parse_bulk_response(
        {"errors": False, "items": [{"create": {"status": 201}}] * 3}, 3, "create"
    )
    assert (result.indexed, result.retry, result.rejected) == (3, [], [])
    assert parse_bulk_response({"errors": False}, 5, "create").indexed == 5


def test_mixed_items():
    response = {
        "errors": True,
        "items": [
            {"create": {"status": 201}},
            {
                "create": {
                    "status": 409,
                    "error": {"type": "version_conflict_engine_exception", "reason": "exists"},
                }
            },
            {
                "create": {
                    "status": 429,
                    "error": {"type": "es_rejected_execution_exception", "reason": "queue"},
                }
            },
            {
                "create": {
                    "status": 400,
                    "error": {"type": "document_parsing_exception", "reason": "bad [x]"},
                }
            },
            {"create": {"status": 503, "error": {"type": "unavailable_shards_exception"}}},
        ],
    }
    result = parse_bulk_response(response, 5, "create")
    assert result.indexed == 2
    assert result.already_indexed == 1
    assert result.retry == [2, 4]
    assert result.retry_statuses == {429: 1, 503: 1}
    (rejected,) = result.rejected
    assert (rejected.position, rejected.status, rejected.error_type) == (
        3,
        400,
        "document_parsing_exception",
    )
    assert rejected.reason == "bad [x]"


@pytest.mark.parametrize(
    "response",
    [
        {"errors": True, "items": [{"create": {"status": 201}}]},
        {"errors": True},
        {"errors": True, "items": [{"create": {"status": 201}}, "x"]},
        {"errors": True, "items": [{"create": {"status": 201}}, {"create": {}}]},
        {"errors": True, "items": [{"create": {"status": 201}}, {"a": {"status": 1}, "b": {}}]},
    ],
)
def test_malformed_responses(response):
    with pytest.raises(BulkResponseError):
        parse_bulk_response(response, 2, "create")
