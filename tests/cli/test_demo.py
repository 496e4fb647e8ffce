"""The quick start's main job: ``recall-fast demo`` generates and ingests into local Parquet."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from recall_fast.cli.main import main


def test_demo_generates_and_ingests_every_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    input_dir = tmp_path / "in"
    output_dir = tmp_path / "out"
    rc = main(["demo", "--input", str(input_dir), "--output", str(output_dir), "--minutes", "2"])
    assert rc == 0
    out = capsys.readouterr().out
    # Two JSON documents on stdout: the generator's summary, then the ingest summary.
    decoder = json.JSONDecoder()
    generated, end = decoder.raw_decode(out)
    ingested, _ = decoder.raw_decode(out[end:].lstrip())
    assert ingested["ok"] is True
    assert ingested["lines_quarantined"] == 0
    assert set(ingested["records_by_tenant"]) == {"acme", "globex"}

    # Every generated record is in the Parquet sink, under the tenant's partition.
    generated_records = generated["records"]
    assert ingested["records"] == generated_records
    for tenant, count in ingested["records_by_tenant"].items():
        tenant_dir = output_dir / f"tenant={tenant}"
        rows = sum(
            ds.dataset(part, format="parquet").count_rows() for part in tenant_dir.glob("dataset=*")
        )
        assert rows == count


def test_demo_replaces_previous_output(tmp_path: Path) -> None:
    args = ["demo", "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out")]
    assert main([*args, "--minutes", "1"]) == 0
    first = sorted(p.relative_to(tmp_path) for p in (tmp_path / "out").rglob("*.parquet"))
    assert main([*args, "--minutes", "1"]) == 0
    second = sorted(p.relative_to(tmp_path) for p in (tmp_path / "out").rglob("*.parquet"))
    assert first == second
