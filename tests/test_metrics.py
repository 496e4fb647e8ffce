"""Metrics registry, Prometheus/EMF exposition and the rate-limited logger."""

from __future__ import annotations

import io
import json
import logging

import pytest

from recall_fast.metrics import (
    EmfEmitter,
    JsonLogFormatter,
    Metrics,
    RateLimitedLogger,
    configure_logging,
)


def test_prometheus_text():
    m = Metrics()
    m.objects.inc(outcome="done")
    m.objects.inc(2, outcome="retry")
    m.documents_dead_lettered.inc(3, tenant='a"b', error_type="mapper_parsing_exception")
    m.bulk_latency_s.observe(0.02)
    m.bulk_latency_s.observe(7.0)
    m.concurrency_limit.set(4)
    text = m.render_prometheus()
    assert "# TYPE recall_fast_objects_total counter" in text
    assert 'recall_fast_objects_total{outcome="retry"} 2' in text
    assert 'tenant="a\\"b"' in text
    assert 'recall_fast_bulk_latency_seconds_bucket{le="0.025"} 1' in text
    assert 'recall_fast_bulk_latency_seconds_bucket{le="+Inf"} 2' in text
    assert "recall_fast_bulk_latency_seconds_count 2" in text
    assert "recall_fast_bulk_concurrency_limit 4" in text
    assert "recall_fast_records_total 0" in text
    assert text.endswith("\n")


def test_labels_must_match():
    with pytest.raises(ValueError):
        Metrics().objects.inc(result="x")


def test_emf_reports_deltas():
    m = Metrics()
    emf = EmfEmitter(m, "ns", clock=lambda: 1000.0)
    m.records.inc(10)
    m.bulk_latency_s.observe(1.0)
    m.bulk_latency_s.observe(3.0)
    first = json.loads(emf.line())
    assert first["_aws"]["Timestamp"] == 1_000_000
    assert first["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ns"
    assert first["records_total"] == 10
    assert first["bulk_latency_seconds"] == 2.0
    m.records.inc(5)
    second = json.loads(emf.line())
    assert second["records_total"] == 5
    assert "bulk_latency_seconds" not in second
    names = {d["Name"] for d in second["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert "messages_dead_lettered_total" in names


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_limited_logger_suppresses_and_reports(caplog):
    clock = _Clock()
    metrics = Metrics()
    logger = logging.getLogger("recall_fast.test.rate")
    logger.setLevel(logging.INFO)
    log = RateLimitedLogger(logger, rate_per_s=1.0, burst=3, metrics=metrics, clock=clock)
    with caplog.at_level(logging.INFO, logger="recall_fast.test.rate"):
        written = [log.error("storm", "boom", n=i) for i in range(100)]
        assert written.count(True) == 3
        assert log.error("other", "different key")  # keys are independent
        clock.now = 2.0
        assert log.error("storm", "boom again")
    assert metrics.log_lines_suppressed.total() == 97
    last = caplog.records[-1]
    assert last.fields["suppressed"] == 97  # type: ignore[attr-defined]
    assert last.fields["key"] == "storm"  # type: ignore[attr-defined]


def test_rate_limited_logger_bounds_keys():
    log = RateLimitedLogger(logging.getLogger("x"), rate_per_s=1, burst=1, max_keys=10)
    for i in range(100):
        log.error(f"k{i}", "m")
    assert len(log._buckets) == 10


def test_json_formatter_and_configure():
    stream = io.StringIO()
    configure_logging("INFO", stream)
    log = RateLimitedLogger(logging.getLogger("recall_fast.test.json"), rate_per_s=1, burst=1)
    log.info("hello", "hi there", tenant="acme")
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["msg"] == "hi there"
    assert line["tenant"] == "acme"
    assert line["level"] == "info"
    assert line["ts"].endswith("Z")
    assert isinstance(JsonLogFormatter().format(logging.makeLogRecord({"msg": "x"})), str)
