"""Tables, JSON and the PNG chart of ``recall-fast bench``.

Stage: benchmark tooling. Pure formatting of :mod:`recall_fast.bench.harness` results;
matplotlib (the ``bench`` extra) is imported only when a chart is asked for.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import recall_fast
from recall_fast.bench.harness import Comparison, EndToEnd, Measurement, cores_needed


def cpu_model() -> str:
    """The CPU model name (``/proc/cpuinfo``), or the platform's best guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def capacity(
    target_gb_per_min: float,
    measurements: Sequence[Measurement],
    e2e: EndToEnd | None,
) -> dict[str, object]:
    """Cores needed on this machine for ``target_gb_per_min`` of uncompressed input.

    From the fused micro benchmark (gzip -> bulk bodies, per CPU second: the client work without
    the network) for recall_fast and the baseline, and, when measured, from the end-to-end CPU
    seconds per GB of ``recall-fast ingest`` (which includes the HTTP client). The cluster's own
    capacity is not part of the estimate.
    """
    out: dict[str, object] = {"target_gb_per_min": target_gb_per_min}
    for m in measurements:
        if m.group == "fused":
            key = "recall_fast" if m.name.startswith("recall_fast") else "python_baseline"
            out[f"cores_{key}_fused"] = cores_needed(target_gb_per_min, m.mb_per_cpu_s)
    if e2e is not None and e2e.cpu_s_per_gb > 0:
        out["cores_recall_fast_end_to_end"] = cores_needed(
            target_gb_per_min, 1000 / e2e.cpu_s_per_gb
        )
    return out


def as_json(
    measurements: Sequence[Measurement],
    comparisons: Sequence[Comparison],
    e2e: EndToEnd | None,
    capacity_estimate: dict[str, object] | None,
    *,
    corpus_mb: float,
    rounds: int,
) -> dict[str, object]:
    """The JSON document written by ``recall-fast bench``."""
    return {
        "recall_fast": {
            "version": recall_fast.__version__,
            "build_profile": recall_fast.build_profile,
        },
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
        },
        "corpus_mb": corpus_mb,
        "rounds": rounds,
        "micro": [
            asdict(m) | {"mb_per_s": m.mb_per_s, "mb_per_cpu_s": m.mb_per_cpu_s}
            for m in measurements
        ],
        "ratios": [asdict(c) for c in comparisons],
        "end_to_end": None
        if e2e is None
        else asdict(e2e)
        | {
            "docs_per_s": e2e.docs_per_s,
            "mb_per_s": e2e.mb_per_s,
            "cpu_s_per_gb": e2e.cpu_s_per_gb,
        },
        "capacity": capacity_estimate,
    }


def table(
    measurements: Sequence[Measurement],
    comparisons: Sequence[Comparison],
    e2e: EndToEnd | None,
    capacity_estimate: dict[str, object] | None,
) -> str:
    """A plain-text report for the terminal."""
    lines = [
        f"recall_fast {recall_fast.__version__} ({recall_fast.build_profile}), "
        f"{cpu_model()}, {os.cpu_count()} cores",
        "",
        "MB/s of uncompressed input, best round (wall clock / per CPU second):",
    ]
    for m in measurements:
        lines.append(f"  {m.group:7s} {m.name:34s} {m.mb_per_s:9.1f} {m.mb_per_cpu_s:9.1f}")
    lines += ["", "recall_fast / baseline (wall, CPU):"]
    for c in comparisons:
        lines.append(f"  {c.group:7s} {c.ratio_wall:6.2f}x {c.ratio_cpu:6.2f}x  vs {c.baseline}")
    if e2e is not None:
        lines += [
            "",
            "end to end, recall-fast ingest -> Elasticsearch:",
            f"  {e2e.documents:,} documents in {e2e.wall_s:.1f} s: {e2e.docs_per_s:,.0f} docs/s, "
            f"{e2e.mb_per_s:.1f} MB/s, {e2e.cpu_s_per_gb:.1f} CPU s/GB, "
            f"peak RSS {e2e.peak_rss_mb:.0f} MB",
        ]
    if capacity_estimate is not None:
        lines += ["", f"cores needed for {capacity_estimate['target_gb_per_min']} GB/min:"]
        for key, value in capacity_estimate.items():
            if key.startswith("cores_"):
                lines.append(f"  {key[len('cores_') :]:32s} {value}")
    return "\n".join(lines)


def chart(measurements: Sequence[Measurement], path: Path) -> Path:
    """Write a grouped bar chart of MB/s per CPU second, recall_fast next to its baseline.

    Raises:
        ImportError: matplotlib is missing (``pip install 'recall-fast[bench]'``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(dict.fromkeys(m.group for m in measurements))
    ours = [
        next((m for m in measurements if m.group == g and m.name.startswith("recall_fast")), None)
        for g in groups
    ]
    theirs = [
        next(
            (m for m in measurements if m.group == g and not m.name.startswith("recall_fast")), None
        )
        for g in groups
    ]
    xs = range(len(groups))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.bar(
        [x - 0.2 for x in xs], [m.mb_per_cpu_s if m else 0 for m in ours], 0.4, label="recall_fast"
    )
    ax.bar(
        [x + 0.2 for x in xs],
        [m.mb_per_cpu_s if m else 0 for m in theirs],
        0.4,
        label="Python baseline",
    )
    ax.set_xticks(list(xs), groups)
    ax.set_ylabel("MB/s per CPU second (uncompressed input)")
    ax.set_title(f"recall_fast {recall_fast.__version__} on {cpu_model()}")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
