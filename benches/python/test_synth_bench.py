"""Generator throughput: MB/s of uncompressed Zeek output, one thread (not tests).

Run: ``maturin develop --profile profiling && pytest benches/python/test_synth_bench.py
--benchmark-only -p no:cacheprovider``. ``RECALL_BENCH_MB`` (default 60) sets the output size
per round.

Target (issue 1): >= 100 MB/s of uncompressed output per core when writing plain files. The
in-memory rows (``synth_log``) measure the record writer alone; the file rows measure the whole
``generate`` path (buffers, compression, file system), with gzip at its default level 6 and
zstd at 3. Each row's ``extra_info`` holds ``bytes``, ``MB/s`` (wall clock) and ``MB/s_cpu``
(CPU time of the generating thread, for shared machines), best round; a table is printed at
the end of the run.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from recall_fast import _native

ROUNDS = 3
TARGET_BYTES = int(os.environ.get("RECALL_BENCH_MB", "60")) * 1_000_000
FIVE = ("conn", "dns", "http", "ssl", "files")
# Bytes per record of each log (measured once below), to size in-memory rounds.
_RECORD_BYTES: dict[tuple[str, str], float] = {}
RESULTS: list[tuple[str, float, float]] = []


class _Summary:
    """Prints the MB/s table after pytest-benchmark's own tables (a runtime plugin: the
    shared ``conftest.py`` summary belongs to the decode benchmarks)."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not RESULTS:
            return
        write = terminalreporter.write_line
        write("")
        write("generator throughput, MB/s of uncompressed output, one thread (best round):")
        write(f"  {'':36s} {'wall':>8s} {'cpu':>8s}")
        for name, mbps, mbps_cpu in RESULTS:
            write(f"  {name:36s} {mbps:8.1f} {mbps_cpu:8.1f}")


@pytest.fixture(scope="module", autouse=True)
def _summary(request: pytest.FixtureRequest) -> None:
    manager = request.config.pluginmanager
    if not manager.has_plugin("recall-synth-summary"):
        manager.register(_Summary(), "recall-synth-summary")


def measure(benchmark: Any, name: str, group: str, fn: Callable[[], int]) -> None:
    """Run ``fn`` (returns uncompressed bytes produced) and record MB/s of the best round.

    Two figures: wall clock (pytest-benchmark's timer), and CPU time of this thread (the native
    code runs on the calling thread), which stays meaningful on a shared, loaded machine.
    """
    produced: list[int] = []
    cpu_s: list[float] = []

    def round_() -> None:
        start = time.thread_time()
        produced.append(fn())
        cpu_s.append(time.thread_time() - start)

    benchmark.group = group
    benchmark.pedantic(round_, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    nbytes = produced[-1]
    mbps = nbytes / benchmark.stats.stats.min / 1e6
    mbps_cpu = nbytes / max(min(cpu_s), 1e-9) / 1e6
    benchmark.extra_info["bytes"] = nbytes
    benchmark.extra_info["MB/s"] = round(mbps, 1)
    benchmark.extra_info["MB/s_cpu"] = round(mbps_cpu, 1)
    RESULTS.append((name, mbps, mbps_cpu))


def records_for(log_type: str, fmt: str, share: float) -> int:
    key = (log_type, fmt)
    if key not in _RECORD_BYTES:
        sample = _native.synth_log(log_type, format=fmt, records=2_000)  # type: ignore[arg-type]
        _RECORD_BYTES[key] = len(sample) / 2_000
    return max(1, int(TARGET_BYTES * share / _RECORD_BYTES[key]))


@pytest.mark.parametrize("fmt", ["tsv", "json"])
def test_in_memory_five_logs(benchmark: Any, fmt: str) -> None:
    counts = {t: records_for(t, fmt, 1 / len(FIVE)) for t in FIVE}

    def run() -> int:
        return sum(
            len(_native.synth_log(t, format=fmt, records=n, seed=1))  # type: ignore[arg-type]
            for t, n in counts.items()
        )

    measure(benchmark, f"memory {fmt} conn+dns+http+ssl+files", f"synth-memory-{fmt}", run)


@pytest.mark.parametrize("fmt", ["tsv", "json"])
def test_in_memory_conn(benchmark: Any, fmt: str) -> None:
    n = records_for("conn", fmt, 1.0)
    measure(
        benchmark,
        f"memory {fmt} conn",
        f"synth-memory-{fmt}",
        lambda: len(_native.synth_log("conn", format=fmt, records=n)),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("compression", ["none", "gzip", "zstd"])
@pytest.mark.parametrize("fmt", ["tsv", "json"])
def test_files(benchmark: Any, tmp_path: Path, fmt: str, compression: str) -> None:
    out = tmp_path / "corpus"

    def run() -> int:
        shutil.rmtree(out, ignore_errors=True)
        summary = _native.generate(
            str(out),
            tenants=["acme"],
            sensors=1,
            minutes=1,
            format=fmt,  # type: ignore[arg-type]
            compression=compression,  # type: ignore[arg-type]
            mb_per_minute=TARGET_BYTES / 1e6,
        )
        return summary["bytes_uncompressed"]

    measure(benchmark, f"files {fmt} {compression}", f"synth-files-{fmt}", run)
