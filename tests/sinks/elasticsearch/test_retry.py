"""Item verdicts and back-off: the sink's retry decisions."""

from __future__ import annotations

import pytest

from recall_fast.sinks.elasticsearch.retry import (
    ItemVerdict,
    backoff_s,
    item_verdict,
    request_status_retryable,
)


@pytest.mark.parametrize(
    ("status", "error_type", "action", "verdict"),
    [
        (201, None, "create", ItemVerdict.INDEXED),
        (200, None, "index", ItemVerdict.INDEXED),
        (409, "version_conflict_engine_exception", "create", ItemVerdict.ALREADY_INDEXED),
        (409, "version_conflict_engine_exception", "index", ItemVerdict.RETRY),
        (429, "es_rejected_execution_exception", "create", ItemVerdict.RETRY),
        (500, "exception", "create", ItemVerdict.RETRY),
        (503, "unavailable_shards_exception", "create", ItemVerdict.RETRY),
        (408, None, "create", ItemVerdict.RETRY),
        (403, "cluster_block_exception", "create", ItemVerdict.RETRY),
        (400, "document_parsing_exception", "create", ItemVerdict.DEAD_LETTER),
        (400, "mapper_parsing_exception", "index", ItemVerdict.DEAD_LETTER),
        (400, "illegal_argument_exception", "create", ItemVerdict.DEAD_LETTER),
        (404, "index_not_found_exception", "create", ItemVerdict.DEAD_LETTER),
        (403, "security_exception", "create", ItemVerdict.DEAD_LETTER),
    ],
)
def test_item_verdict(status, error_type, action, verdict):
    assert item_verdict(status, error_type, action) is verdict


def test_backoff_is_capped_and_jittered():
    low = [backoff_s(a, base_s=0.5, cap_s=8.0, rand=lambda: 0.0) for a in range(1, 10)]
    high = [backoff_s(a, base_s=0.5, cap_s=8.0, rand=lambda: 0.999999) for a in range(1, 10)]
    assert low == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0]
    assert all(h < 2 * lo + 1e-9 for lo, h in zip(low, high, strict=True))
    assert max(high) < 8.0
    assert backoff_s(0, base_s=1, cap_s=4, rand=lambda: 0.0) == 0.5


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (429, True),
        (502, True),
        (503, True),
        (504, True),
        (500, True),
        (400, False),
        (413, False),
        (401, False),
    ],
)
def test_request_status_retryable(status, retry):
    assert request_status_retryable(status) is retry
