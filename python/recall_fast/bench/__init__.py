"""Benchmark tooling: seeded realistic Zeek logs (``synth``) for corpora and throughput tests.

Nothing here is on the ingestion path; the Lambda handler never imports it.
"""

from recall_fast.bench.synth import (
    ALL_LOG_TYPES,
    DEFAULT_LOG_TYPES,
    LAYOUT,
    LogTypeSummary,
    SynthSummary,
    generate,
    object_key,
    parse_start,
    synth_log,
)

__all__ = [
    "ALL_LOG_TYPES",
    "DEFAULT_LOG_TYPES",
    "LAYOUT",
    "LogTypeSummary",
    "SynthSummary",
    "generate",
    "object_key",
    "parse_start",
    "synth_log",
]
