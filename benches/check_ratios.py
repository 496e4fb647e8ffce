"""Check recall_fast-to-baseline throughput ratios from pytest-benchmark JSON (not a test).

Used by ``scripts/bench-smoke``; can be run by hand on any ``--benchmark-json`` output::

    python -m benches.check_ratios run.json [more.json ...] \\
        --thresholds benches/thresholds.toml --out bench-results/smoke-X.json

Every benchmark row's throughput is ``extra_info["bytes"] / stats.min`` (MB/s of uncompressed
input, best round), the convention of ``benches/python``. A ratio is subject MB/s over the best
baseline MB/s, both measured in the same run, so machine noise cancels out to first order; the
threshold file says why each floor has its value. When several JSON files are given (a re-run of
the failing benchmarks), each benchmark keeps its best round across files.

Exit status: 0 when every gated ratio holds, 1 when one falls below its floor or is missing,
2 on unusable input. ``--failed-names`` writes the benchmark names involved in failing ratios,
one per line, for a targeted re-run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tomllib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Row:
    """One benchmark: its group, pytest name, bytes of input and best round in seconds."""

    name: str
    group: str
    nbytes: int
    best_s: float

    @property
    def mbps(self) -> float:
        return self.nbytes / self.best_s / 1e6 if self.best_s > 0 else 0.0


@dataclass(frozen=True)
class Ratio:
    """One checked ratio and its outcome."""

    name: str
    subject: str
    baseline: str | None
    value: float | None
    floor: float
    gate: bool
    status: str  # "pass", "fail", "missing", "info"


def load_rows(paths: list[Path]) -> dict[str, Row]:
    """Read pytest-benchmark JSON files; a name seen twice keeps its fastest round."""
    rows: dict[str, Row] = {}
    for path in paths:
        doc = json.loads(path.read_text())
        for bench in doc.get("benchmarks", []):
            nbytes = bench.get("extra_info", {}).get("bytes")
            if not isinstance(nbytes, int):
                continue  # a benchmark without a byte count has no throughput (cold start)
            row = Row(bench["name"], bench.get("group") or "", nbytes, float(bench["stats"]["min"]))
            old = rows.get(row.name)
            if old is None or row.mbps > old.mbps:
                rows[row.name] = row
    return rows


def check(rows: dict[str, Row], spec: list[dict[str, Any]]) -> list[Ratio]:
    """Evaluate every ``[[ratio]]`` entry of the threshold file against ``rows``."""
    out = []
    for entry in spec:
        gate = bool(entry.get("gate", True))
        floor = float(entry["min"])
        subject = rows.get(entry["subject"])
        present = [rows[b] for b in entry["baselines"] if b in rows]
        if subject is None or not present:
            status = "missing" if gate else "info"
            out.append(Ratio(entry["name"], entry["subject"], None, None, floor, gate, status))
            continue
        best = max(present, key=lambda r: r.mbps)
        value = subject.mbps / best.mbps
        if not gate:
            status = "info"
        else:
            status = "pass" if value >= floor else "fail"
        out.append(Ratio(entry["name"], subject.name, best.name, value, floor, gate, status))
    return out


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def render(rows: dict[str, Row], ratios: list[Ratio]) -> str:
    lines = ["throughput, MB/s of uncompressed input (best round):"]
    by_group: dict[str, list[Row]] = {}
    for row in rows.values():
        by_group.setdefault(row.group, []).append(row)
    for group in sorted(by_group):
        for row in sorted(by_group[group], key=lambda r: -r.mbps):
            lines.append(f"  {group:22s} {row.name:40s} {row.mbps:9.1f}")
    lines.append("")
    lines.append("ratios (subject / best baseline, same run):")
    lines.append(f"  {'check':44s} {'ratio':>7s} {'floor':>7s}  status")
    for r in ratios:
        value = f"{r.value:6.2f}x" if r.value is not None else "    n/a"
        floor = f"{r.floor:6.2f}x" + ("" if r.gate else "*")
        lines.append(f"  {r.name:44s} {value} {floor:>8s} {r.status}")
    lines.append("  (* = target only, not gated)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "json", nargs="+", type=Path, help="pytest-benchmark --benchmark-json files"
    )
    parser.add_argument("--thresholds", type=Path, default=Path("benches/thresholds.toml"))
    parser.add_argument("--out", type=Path, help="write the JSON artifact here")
    parser.add_argument("--mode", default="smoke", help="recorded in the artifact")
    parser.add_argument("--corpus-mb", type=int, help="RECALL_BENCH_MB of the run (recorded)")
    parser.add_argument("--failed-names", type=Path, help="write names in failing ratios here")
    args = parser.parse_args(argv)

    try:
        rows = load_rows(args.json)
        spec = tomllib.loads(args.thresholds.read_text()).get("ratio", [])
    except (OSError, ValueError, KeyError) as exc:
        print(f"check_ratios: unusable input: {exc}", file=sys.stderr)
        return 2
    if not rows:
        print("check_ratios: no benchmark with a byte count in the input", file=sys.stderr)
        return 2
    ratios = check(rows, spec)
    print(render(rows, ratios))

    failed = [r for r in ratios if r.status in ("fail", "missing")]
    if args.failed_names:
        names = set()
        for r in failed:
            entry = next(e for e in spec if e["name"] == r.name)
            names.update([entry["subject"], *entry["baselines"]])
        args.failed_names.write_text("".join(f"{n}\n" for n in sorted(names)))
    if args.out:
        import recall_fast

        artifact = {
            "mode": args.mode,
            "created": datetime.now(UTC).isoformat(),
            "passed": not failed,
            "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": sys.version},
            "recall_fast": {
                "version": recall_fast.__version__,
                "build_profile": recall_fast.build_profile,
            },
            "corpus_mb": args.corpus_mb,
            "benchmarks": [asdict(r) | {"mbps": round(r.mbps, 2)} for r in rows.values()],
            "ratios": [asdict(r) for r in ratios],
            "sources": [str(p) for p in args.json],
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(artifact, indent=2) + "\n")
        print(f"\nwrote {args.out}")
    if failed:
        for r in failed:
            why = "missing from the run" if r.value is None else f"{r.value:.2f}x < {r.floor:.2f}x"
            print(f"FAIL {r.name}: {why}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
