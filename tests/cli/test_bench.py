"""``recall-fast bench`` in-process, on tiny corpora: report shape, positive numbers, exit codes.

No timing assertions: the numbers only have to exist and be positive (benchmarks judge them).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recall_fast.bench.harness import Measurement, compare, cores_needed
from recall_fast.cli.main import main
from tests.services.elasticsearch import ElasticsearchNode

GROUPS = {"tsv", "json", "encode", "fused"}


def test_micro_report_json_and_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, chart = tmp_path / "b.json", tmp_path / "b.png"
    code = main(
        ["bench", "--mb", "0.3", "--rounds", "1", "--json", str(out), "--chart", str(chart)]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "recall_fast / baseline" in printed and "cores needed for 2.0 GB/min" in printed

    report = json.loads(out.read_text())
    assert set(report) >= {"recall_fast", "machine", "corpus_mb", "micro", "ratios", "capacity"}
    assert report["end_to_end"] is None
    assert report["corpus_mb"] > 0
    assert {m["group"] for m in report["micro"]} == GROUPS
    assert len(report["micro"]) == 8
    for m in report["micro"]:
        assert m["nbytes"] > 0 and m["wall_s"] > 0 and m["mb_per_s"] > 0 and m["mb_per_cpu_s"] > 0
    assert {r["group"] for r in report["ratios"]} == GROUPS
    assert all(r["ratio_wall"] > 0 and r["ratio_cpu"] > 0 for r in report["ratios"])
    capacity = report["capacity"]
    assert capacity["target_gb_per_min"] == 2.0
    assert capacity["cores_recall_fast_fused"] >= 1
    assert capacity["cores_python_baseline_fused"] >= 1
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "argv",
    [["--mb", "0"], ["--rounds", "0"], ["--target-gb-per-min", "-1"], ["--s3", "s3://b/p"]],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", *argv]) == 2
    assert "recall-fast bench:" in capsys.readouterr().err


def test_cores_needed_rounds_up() -> None:
    # 2 GB/min is 33.3 MB/s.
    assert cores_needed(2.0, 100.0) == 1
    assert cores_needed(2.0, 10.0) == 4
    assert cores_needed(0.001, 1000.0) == 1


def test_compare_pairs_each_group_with_its_baseline() -> None:
    rows = [
        Measurement("recall_fast X", "g", 1_000_000, 0.5, 0.25),
        Measurement("slow", "g", 1_000_000, 1.0, 1.0),
        Measurement("recall_fast alone", "h", 1, 1.0, 1.0),
    ]
    [c] = compare(rows)
    assert (c.group, c.subject, c.baseline) == ("g", "recall_fast X", "slow")
    assert c.ratio_wall == pytest.approx(2.0)
    assert c.ratio_cpu == pytest.approx(4.0)


@pytest.mark.integration
@pytest.mark.slow
def test_end_to_end_into_elasticsearch(
    es_node: ElasticsearchNode, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "b.json"
    argv = ["bench", "--mb", "0.2", "--rounds", "1", "--es", es_node.url, "--e2e-mb", "1"]
    assert main([*argv, "--json", str(out), "--no-chart"]) == 0
    assert "end to end" in capsys.readouterr().out
    e2e = json.loads(out.read_text())["end_to_end"]
    assert e2e["documents"] > 0 and e2e["bytes_uncompressed"] > 0
    assert e2e["docs_per_s"] > 0 and e2e["cpu_s_per_gb"] > 0 and e2e["peak_rss_mb"] > 0
    assert json.loads(out.read_text())["capacity"]["cores_recall_fast_end_to_end"] >= 1
