"""Metrics and rate-limited structured logs, created at the edge and passed in.

Stage: observability for every stage. Alerts fire on these metrics (dead-lettered messages,
dead-lettered documents, queue lag), never on log lines: "no logs" must not be ambiguous, and an
error storm must not flood the log shippers (the incident this project comes from), so every
repeated log line goes through a token bucket per message key that reports how many lines it
suppressed.

Exposition: Prometheus text format (served by the worker, see ``orchestration/runtime.py``) and
CloudWatch Embedded Metric Format lines (:meth:`Metrics.emf_line`). Metrics are updated on the
event loop thread only (native calls in the executor return values, they do not count).

Must not import clients, the native extension or the pipeline.
"""

from __future__ import annotations

import bisect
import logging
import math
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, TextIO

import orjson

# Latency buckets (seconds) for bulk requests and queue lag: 5 ms .. 20 min, roughly x2.5.
LATENCY_BUCKETS_S: Final = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1200.0
)  # fmt: skip

LabelValues = tuple[str, ...]


def _escape_label(value: str) -> str:
    """Escape a label value for the Prometheus text format."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels_text(names: Sequence[str], values: LabelValues, extra: str = "") -> str:
    """Render ``{a="1",b="2"}`` (empty when there are no labels)."""
    parts = [f'{n}="{_escape_label(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    """Render a sample value (integers without a decimal point)."""
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


@dataclass
class _Metric:
    """Shared part of counters, gauges and histograms."""

    name: str
    help: str
    labelnames: tuple[str, ...] = ()
    kind: str = "untyped"
    unit: str = "None"

    def _key(self, labels: Mapping[str, str]) -> LabelValues:
        """Order label values as declared.

        Raises:
            ValueError: A label is missing or unknown (a programming error).
        """
        if set(labels) != set(self.labelnames):
            raise ValueError(f"{self.name}: labels {sorted(labels)} != {list(self.labelnames)}")
        return tuple(str(labels[n]) for n in self.labelnames)


@dataclass
class Counter(_Metric):
    """A monotonically increasing count, optionally per label set."""

    kind: str = "counter"
    unit: str = "Count"
    values: dict[LabelValues, float] = field(default_factory=dict)

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` (>= 0) to the series of ``labels``."""
        key = self._key(labels)
        self.values[key] = self.values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        """Current value of one series (0 when never incremented)."""
        return self.values.get(self._key(labels), 0.0)

    def total(self) -> float:
        """Sum over every label set."""
        return sum(self.values.values())


@dataclass
class Gauge(_Metric):
    """A value that goes up and down (in flight, concurrency limit)."""

    kind: str = "gauge"
    unit: str = "Count"
    values: dict[LabelValues, float] = field(default_factory=dict)

    def set(self, value: float, **labels: str) -> None:
        """Set the series of ``labels`` to ``value``."""
        self.values[self._key(labels)] = value

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` (may be negative)."""
        key = self._key(labels)
        self.values[key] = self.values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        """Current value of one series."""
        return self.values.get(self._key(labels), 0.0)


@dataclass
class _HistogramSeries:
    """Bucket counts, sum and count of one label set."""

    buckets: list[int]
    sum: float = 0.0
    count: int = 0


@dataclass
class Histogram(_Metric):
    """Distribution of observations in fixed cumulative buckets (latencies, lag)."""

    kind: str = "histogram"
    unit: str = "Seconds"
    bounds: tuple[float, ...] = LATENCY_BUCKETS_S
    series: dict[LabelValues, _HistogramSeries] = field(default_factory=dict)

    def observe(self, value: float, **labels: str) -> None:
        """Record one observation."""
        key = self._key(labels)
        s = self.series.get(key)
        if s is None:
            s = self.series[key] = _HistogramSeries(buckets=[0] * (len(self.bounds) + 1))
        s.buckets[bisect.bisect_left(self.bounds, value)] += 1
        s.sum += value
        s.count += 1

    def count(self) -> int:
        """Observations over every label set."""
        return sum(s.count for s in self.series.values())

    def sum(self) -> float:
        """Sum of observations over every label set."""
        return sum(s.sum for s in self.series.values())


class Metrics:
    """The pipeline's metrics registry; one per process, created at the edge.

    Attributes are the metrics the stages update; :meth:`render_prometheus` and
    :meth:`emf_line` expose them.
    """

    def __init__(self, prefix: str = "recall_fast") -> None:
        """Create every metric with zero value.

        Args:
            prefix: Name prefix of every metric.
        """
        self._prefix = prefix
        self._all: list[Counter | Gauge | Histogram] = []
        c, g, h = self._counter, self._gauge, self._histogram
        self.objects = c("objects_total", "objects finished, by outcome", ("outcome",))
        self.objects_in_flight = g("objects_in_flight", "objects being processed")
        self.records = c("records_total", "records decoded")
        self.bytes_in = c("bytes_in_total", "object bytes read (compressed size)", unit="Bytes")
        self.documents_indexed = c("documents_indexed_total", "documents acknowledged by ES")
        self.documents_retried = c("documents_retried_total", "documents re-sent after 429/5xx")
        self.documents_dead_lettered = c(
            "documents_dead_lettered_total",
            "documents rejected by Elasticsearch and stored in the dead-letter store",
            ("tenant", "error_type"),
        )
        self.documents_skipped = c("documents_skipped_total", "documents disabled by a flag")
        self.lines_quarantined = c("lines_quarantined_total", "malformed input lines set aside")
        self.bulk_requests = c("bulk_requests_total", "bulk requests, by result", ("result",))
        self.bulk_latency_s = h("bulk_latency_seconds", "bulk request round trip time")
        self.bulk_in_flight = g("bulk_requests_in_flight", "bulk requests in flight")
        self.concurrency_limit = g("bulk_concurrency_limit", "adaptive bulk concurrency limit")
        self.sink_bytes_held = g(
            "sink_bytes_held", "bulk body bytes held by the sink", unit="Bytes"
        )
        self.messages = c("messages_total", "queue messages, by action", ("action",))
        self.messages_dead_lettered = c(
            "messages_dead_lettered_total",
            "ALERT: messages moved to the dead-letter queue, by reason",
            ("reason",),
        )
        self.queue_lag_s = h("queue_lag_seconds", "time from notification to receive")
        self.log_lines_suppressed = c(
            "log_lines_suppressed_total", "log lines dropped by rate limiting"
        )

    def _counter(
        self, name: str, help_: str, labels: tuple[str, ...] = (), unit: str = "Count"
    ) -> Counter:
        metric = Counter(f"{self._prefix}_{name}", help_, labels, unit=unit)
        self._all.append(metric)
        return metric

    def _gauge(self, name: str, help_: str, unit: str = "Count") -> Gauge:
        metric = Gauge(f"{self._prefix}_{name}", help_, unit=unit)
        self._all.append(metric)
        return metric

    def _histogram(self, name: str, help_: str) -> Histogram:
        metric = Histogram(f"{self._prefix}_{name}", help_)
        self._all.append(metric)
        return metric

    def render_prometheus(self) -> str:
        """Render every metric in the Prometheus text exposition format (version 0.0.4).

        Returns:
            The exposition text, ending with a newline.
        """
        out: list[str] = []
        for m in self._all:
            out.append(f"# HELP {m.name} {m.help}")
            out.append(f"# TYPE {m.name} {m.kind}")
            if isinstance(m, Histogram):
                for key, s in sorted(m.series.items()):
                    cumulative = 0
                    for bound, n in zip((*m.bounds, math.inf), s.buckets, strict=True):
                        cumulative += n
                        le = 'le="' + ("+Inf" if math.isinf(bound) else repr(bound)) + '"'
                        labels = _labels_text(m.labelnames, key, le)
                        out.append(f"{m.name}_bucket{labels} {cumulative}")
                    labels = _labels_text(m.labelnames, key)
                    out.append(f"{m.name}_sum{labels} {_number(s.sum)}")
                    out.append(f"{m.name}_count{labels} {s.count}")
                continue
            if not m.values and not m.labelnames:
                out.append(f"{m.name} 0")
            for key, value in sorted(m.values.items()):
                out.append(f"{m.name}{_labels_text(m.labelnames, key)} {_number(value)}")
        return "\n".join(out) + "\n"

    def short_names(self) -> dict[str, Counter | Gauge | Histogram]:
        """Every metric by its name without the prefix."""
        cut = len(self._prefix) + 1
        return {m.name[cut:]: m for m in self._all}

    def snapshot(self) -> dict[str, float]:
        """Totals over label sets, by metric name without prefix (summaries, EMF, tests)."""
        snap: dict[str, float] = {}
        cut = len(self._prefix) + 1
        for m in self._all:
            if isinstance(m, Histogram):
                snap[f"{m.name[cut:]}_count"] = float(m.count())
                snap[f"{m.name[cut:]}_sum"] = m.sum()
            elif isinstance(m, Counter):
                snap[m.name[cut:]] = m.total()
            else:
                snap[m.name[cut:]] = sum(m.values.values())
        return snap


class EmfEmitter:
    """Turns the registry into CloudWatch Embedded Metric Format lines (deltas per interval).

    Counters are reported as the increase since the previous line, gauges as their value and
    histograms as the mean of the interval's observations, all without dimensions so that a
    CloudWatch alarm can watch them directly (e.g. ``messages_dead_lettered_total > 0``).
    """

    def __init__(
        self, metrics: Metrics, namespace: str, clock: Callable[[], float] = time.time
    ) -> None:
        """Args: metrics: the registry; namespace: CloudWatch namespace; clock: wall clock."""
        self._metrics = metrics
        self._namespace = namespace
        self._clock = clock
        self._previous: dict[str, float] = {}

    def line(self) -> bytes:
        """Return one EMF JSON line (no newline) with the interval's values.

        Returns:
            The encoded line.
        """
        snap = self._metrics.snapshot()
        values: dict[str, float] = {}
        units: dict[str, str] = {}
        for name, metric in self._metrics.short_names().items():
            if isinstance(metric, Histogram):
                count = snap[f"{name}_count"] - self._previous.get(f"{name}_count", 0.0)
                total = snap[f"{name}_sum"] - self._previous.get(f"{name}_sum", 0.0)
                if count > 0:
                    values[name] = total / count
                    units[name] = metric.unit
            elif isinstance(metric, Counter):
                values[name] = snap[name] - self._previous.get(name, 0.0)
                units[name] = metric.unit
            else:
                values[name] = snap[name]
                units[name] = metric.unit
        self._previous = snap
        document: dict[str, object] = {
            "_aws": {
                "Timestamp": int(self._clock() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self._namespace,
                        "Dimensions": [[]],
                        "Metrics": [{"Name": n, "Unit": units[n]} for n in values],
                    }
                ],
            },
            **values,
        }
        return orjson.dumps(document)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per log record: time, level, logger, message and structured fields.

    Fields come from ``extra={"fields": {...}}`` (what :class:`RateLimitedLogger` passes).
    """

    def format(self, record: logging.LogRecord) -> str:
        """Render the record as a JSON line."""
        doc: dict[str, object] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, Mapping):
            doc.update(fields)
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


JsonLogFormatter.converter = time.gmtime


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at each record, not the one seen at start-up.

    A library embedded in a host (a test runner, a notebook, a Lambda runtime) may have its
    stderr swapped after logging was configured; a handler bound to the old stream would then
    write to a closed file.
    """

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: str, stream: TextIO | None = None) -> None:
    """Send the package's logs as JSON lines to ``stream`` (called once, at the edge).

    Args:
        level: DEBUG, INFO, WARNING or ERROR.
        stream: Where to write; None (the default) means the process's current stderr at each
            record (stdout carries command output such as the JSON summary).
    """
    handler: logging.Handler = (
        _CurrentStderrHandler() if stream is None else logging.StreamHandler(stream)
    )
    handler.setFormatter(JsonLogFormatter())
    logger = logging.getLogger("recall_fast")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


@dataclass
class _Bucket:
    """Token bucket state of one message key."""

    tokens: float
    updated: float
    suppressed: int = 0


class RateLimitedLogger:
    """Structured logging with a token bucket per message key.

    Each key (``"bulk.item_rejected"``, ``"object.failed"``...) may log ``burst`` lines at once
    and then ``rate_per_s`` lines per second; lines beyond that are counted, not written, and
    the next line that passes carries ``suppressed`` = how many were dropped since. At most
    ``max_keys`` keys are tracked (least recently used dropped), so dynamic keys cannot grow
    memory without bound.
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        rate_per_s: float,
        burst: int,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 1024,
    ) -> None:
        """Args: logger: destination; rate_per_s/burst: bucket; metrics: counts suppressed lines;
        clock: monotonic clock (tests inject one); max_keys: tracked key limit."""
        self._logger = logger
        self._rate = rate_per_s
        self._burst = float(burst)
        self._metrics = metrics
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def log(self, level: int, key: str, message: str, **fields: object) -> bool:
        """Log ``message`` with ``fields`` unless ``key`` is over its rate.

        Args:
            level: A ``logging`` level.
            key: Rate-limiting key: the kind of message, not the object it is about.
            message: Human-readable text.
            **fields: Structured fields (JSON-serialisable).

        Returns:
            True when the line was written, False when it was suppressed.
        """
        if not self._logger.isEnabledFor(level):
            return False
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(tokens=self._burst, updated=now)
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
            bucket.updated = now
        if bucket.tokens < 1.0:
            bucket.suppressed += 1
            if self._metrics is not None:
                self._metrics.log_lines_suppressed.inc()
            return False
        bucket.tokens -= 1.0
        payload: dict[str, object] = {"key": key, **fields}
        if bucket.suppressed:
            payload["suppressed"] = bucket.suppressed
            bucket.suppressed = 0
        self._logger.log(level, message, extra={"fields": payload})
        return True

    def info(self, key: str, message: str, **fields: object) -> bool:
        """Log at INFO; see :meth:`log`."""
        return self.log(logging.INFO, key, message, **fields)

    def warning(self, key: str, message: str, **fields: object) -> bool:
        """Log at WARNING; see :meth:`log`."""
        return self.log(logging.WARNING, key, message, **fields)

    def error(self, key: str, message: str, **fields: object) -> bool:
        """Log at ERROR; see :meth:`log`."""
        return self.log(logging.ERROR, key, message, **fields)
