"""Shared corpora and the side-by-side report for the Python benchmarks.

Corpora are built in memory from the real logs in ``../shared/data/zeek`` (never copied into
the repository): several conn/dns/http files, repeated until the corpus holds at least
``RECALL_BENCH_MB`` (default 60) MB of uncompressed text. Every benchmark records its
throughput in MB/s of *uncompressed* input; the terminal summary prints them side by side
with the ratio to the baseline measured in the same run.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import recall_fast

REPO = Path(__file__).resolve().parents[2]
ZEEK = Path(os.environ.get("RECALL_ZEEK_DATA", REPO.parent / "shared" / "data" / "zeek"))
TARGET_BYTES = int(os.environ.get("RECALL_BENCH_MB", "60")) * 1_000_000
LOG_TYPES = ("conn", "dns", "http")

# name -> (group, MB/s); filled by benchmarks, printed at the end.
RESULTS: dict[str, tuple[str, float]] = {}


@dataclass
class Corpus:
    """Uncompressed text of several files; ``segments`` keeps each file for the baselines."""

    data: bytes
    segments: list[bytes] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.data)


def _files(kind: str) -> list[Path]:
    if not ZEEK.is_dir():
        pytest.fail(f"real Zeek data not found at {ZEEK} (set RECALL_ZEEK_DATA)")
    return sorted(p for p in (ZEEK / kind).rglob("*.gz") if p.name.split(".")[0] in LOG_TYPES)


def _build(kind: str) -> Corpus:
    texts = [gzip.decompress(p.read_bytes()) for p in _files(kind)]
    segments: list[bytes] = []
    while sum(map(len, segments)) < TARGET_BYTES:
        segments.extend(texts)
    return Corpus(b"".join(segments), segments)


@pytest.fixture(scope="session", autouse=True)
def _refuse_debug_builds() -> None:
    if recall_fast.build_profile == "debug":
        pytest.fail("benchmarks need an optimised build: maturin develop --profile profiling")


@pytest.fixture(scope="session")
def tsv_corpus() -> Corpus:
    return _build("tsv")


@pytest.fixture(scope="session")
def json_corpus() -> Corpus:
    return _build("json")


@pytest.fixture(scope="session")
def tsv_gzip(tsv_corpus: Corpus) -> bytes:
    return gzip.compress(tsv_corpus.data, compresslevel=6)


def record(name: str, group: str, nbytes: int, seconds: float) -> float:
    """Store and return MB/s (best of the rounds) for the summary."""
    mbps = nbytes / seconds / 1e6
    RESULTS[f"{group}:{name}"] = (group, mbps)
    return mbps


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not RESULTS:
        return
    write = terminalreporter.write_line
    write("")
    write("decode throughput, MB/s of uncompressed input (best round):")
    groups: dict[str, list[tuple[str, float]]] = {}
    for key, (group, mbps) in RESULTS.items():
        groups.setdefault(group, []).append((key.split(":", 1)[1], mbps))
    for group, rows in groups.items():
        baselines = [m for n, m in rows if not n.startswith("recall_fast")]
        best_baseline = max(baselines) if baselines else None
        for name, mbps in rows:
            ratio = f"  {mbps / best_baseline:5.2f}x best baseline" if best_baseline else ""
            write(f"  {group:5s} {name:32s} {mbps:8.1f}{ratio}")
