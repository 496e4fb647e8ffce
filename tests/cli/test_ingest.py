"""``recall-fast ingest`` on generated and real logs: summary, sinks, exit codes."""

from __future__ import annotations

import gzip
import json

import pyarrow.dataset as ds
import pytest

from recall_fast import _native
from recall_fast.cli.main import main


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen") / "recall-input"
    summary = _native.generate(
        str(root),
        tenants=["acme", "globex"],
        sensors=1,
        minutes=2,
        records_per_minute={"conn": 40},
        log_types=["conn", "dns", "http"],
    )
    return root, summary


def run(capsys, *argv: str) -> tuple[int, dict[str, object]]:
    code = main(["ingest", *argv, "--no-progress"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip().startswith("{") else {}


def test_default_sink_is_partitioned_parquet(generated, tmp_path, capsys, monkeypatch):
    root, gen = generated
    monkeypatch.chdir(tmp_path)
    code, summary = run(capsys, str(root))
    assert code == 0
    assert summary["ok"] is True
    assert summary["sink"] == "parquet"
    assert summary["records"] == gen["records"]
    assert summary["documents_indexed"] == gen["records"]
    assert summary["objects"] == gen["files"]
    assert set(summary["records_by_tenant"]) == {"acme", "globex"}
    dataset = ds.dataset(tmp_path / "recall-data", format="parquet", partitioning="hive")
    table = dataset.to_table(columns=["tenant", "dataset", "day"])
    assert table.num_rows == gen["records"]
    assert set(table.column("dataset").to_pylist()) == {"zeek.conn", "zeek.dns", "zeek.http"}
    assert set(table.column("day").to_pylist()) == {"2024-05-01"}
    # Ingesting again replaces the same files instead of adding new ones.
    code, _ = run(capsys, str(root))
    assert code == 0
    assert (
        dataset.count_rows() == ds.dataset(tmp_path / "recall-data", format="parquet").count_rows()
    )
    assert ds.dataset(tmp_path / "recall-data", format="parquet").count_rows() == gen["records"]


def test_ndjson_and_null_sinks(generated, tmp_path, capsys):
    root, gen = generated
    out = tmp_path / "docs.ndjson"
    code, summary = run(capsys, str(root), "--to", f"ndjson:{out}")
    assert code == 0
    lines = out.read_bytes().splitlines()
    assert len(lines) == gen["records"]
    doc = json.loads(lines[0])
    assert doc["organization"]["id"] in {"acme", "globex"}
    assert "@timestamp" in doc
    code, summary = run(capsys, str(root), "--to", "null")
    assert code == 0
    assert summary["documents_indexed"] == gen["records"]


def test_failures_are_reported_and_exit_1(tmp_path, capsys):
    good = tmp_path / "in" / "acme" / "s" / "conn" / "conn.log"
    good.parent.mkdir(parents=True)
    good.write_bytes(_native.synth_log("conn", records=25))
    bad_tenant = tmp_path / "in" / "Bad_Tenant" / "conn.log"
    bad_tenant.parent.mkdir(parents=True)
    bad_tenant.write_bytes(_native.synth_log("conn", records=5))
    corrupt = tmp_path / "in" / "acme" / "s" / "conn" / "broken.log.gz"
    corrupt.write_bytes(gzip.compress(_native.synth_log("conn", records=500))[:-200])
    code, summary = run(capsys, str(tmp_path / "in"), "--to", "null")
    assert code == 1
    assert summary["ok"] is False
    kinds = {f["error_type"] for f in summary["failures"]}
    assert "invalid_tenant" in kinds
    assert "corrupt_compressed_stream" in kinds
    assert summary["objects_by_outcome"]["reject"] == 2
    assert summary["records_by_tenant"]["acme"] >= 25


def test_tenant_override_and_real_data(shared_zeek, tmp_path, capsys):
    code, summary = run(
        capsys, str(shared_zeek / "tsv" / "conn.zat.log.gz"), "--tenant", "lab", "--to", "null"
    )
    assert code == 0
    assert summary["records_by_tenant"] == {"lab": summary["records"]}
    assert summary["records"] > 0


@pytest.mark.parametrize(
    "argv",
    [["--to", "kafka:x"], ["--tenant", "Bad"], ["--batch-rows", "0"]],
)
def test_usage_errors_exit_2(generated, capsys, argv):
    root, _ = generated
    assert main(["ingest", str(root), *argv]) == 2
    assert "recall-fast ingest:" in capsys.readouterr().err


def test_missing_path_exit_2(tmp_path, capsys):
    assert main(["ingest", str(tmp_path / "nope")]) == 2


def test_help_lists_options(capsys):
    with pytest.raises(SystemExit):
        main(["ingest", "--help"])
    text = capsys.readouterr().out
    for flag in [
        "--to",
        "--tenant-key-pattern",
        "--es-max-chunk-bytes",
        "RECALL_FAST_DECODE__THREADS",
    ]:
        assert flag in text


@pytest.mark.parametrize("to", ["parquet", "ndjson"])
def test_range_split_gives_identical_output(tmp_path, capsys, to):
    """A large uncompressed TSV and JSON object split into ranges decodes to the same records."""
    src = tmp_path / "in" / "acme" / "s" / "conn"
    src.mkdir(parents=True)
    (src / "conn.log").write_bytes(_native.synth_log("conn", records=12_000))
    (src / "dns.json").write_bytes(_native.synth_log("dns", records=12_000, format="json"))
    results = {}
    for split in ("0", str(1 << 20)):
        dest = tmp_path / f"out-{split}"
        target = f"parquet:{dest}" if to == "parquet" else f"ndjson:{dest}.ndjson"
        code, summary = run(
            capsys, str(tmp_path / "in"), "--to", target,
            "--range-split-min-bytes", split, "--range-bytes", str(1 << 20),
        )  # fmt: skip
        assert code == 0
        assert summary["records"] == 24_000
        if to == "parquet":
            table = ds.dataset(dest, format="parquet", partitioning="hive").to_table()
            results[split] = sorted(map(str, table.drop_columns(["day"]).to_pylist()))
        else:
            docs = [
                json.loads(line)
                for line in (tmp_path / f"out-{split}.ndjson").read_bytes().splitlines()
            ]
            for doc in docs:
                doc["event"].pop("ingested", None)
            results[split] = sorted(json.dumps(d, sort_keys=True) for d in docs)
    assert results["0"] == results[str(1 << 20)]
    assert len(results["0"]) == 24_000


def test_disabled_enrichment_leaves_the_field_out_for_that_tenant_only(generated, tmp_path, capsys):
    """``features.tenants.acme.disabled_enrichments``: acme's documents lack the field, the
    other tenant's still have it, and nothing else changes (same record count)."""
    root, gen = generated
    config = tmp_path / "c.toml"
    config.write_text('[features.tenants.acme]\ndisabled_enrichments = ["community_id"]\n')
    out = tmp_path / "docs.ndjson"
    code, summary = run(capsys, str(root), "--to", f"ndjson:{out}", "--config", str(config))
    assert code == 0
    assert summary["documents_indexed"] == gen["records"]
    with_id: dict[str, int] = {"acme": 0, "globex": 0}
    conn: dict[str, int] = {"acme": 0, "globex": 0}
    for line in out.read_bytes().splitlines():
        doc = json.loads(line)
        tenant = doc["organization"]["id"]
        if doc["event"]["dataset"] == "zeek.conn":
            conn[tenant] += 1
        if "community_id" in doc.get("network", {}):
            with_id[tenant] += 1
    assert conn["acme"] > 0 and conn["globex"] > 0
    assert with_id["acme"] == 0
    assert with_id["globex"] >= conn["globex"]


def test_unknown_enrichment_name_is_refused_at_start(generated, tmp_path, capsys):
    root, _ = generated
    config = tmp_path / "c.toml"
    config.write_text('[features.tenants.acme]\ndisabled_enrichments = ["communityid"]\n')
    assert main(["ingest", str(root), "--to", "null", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "features.acme.disabled_enrichments" in err and "communityid" in err


def test_disabled_log_type_is_skipped(generated, tmp_path, capsys):
    root, gen = generated
    config = tmp_path / "c.toml"
    config.write_text('[features.tenants.acme]\ndisabled_log_types = ["dns"]\n')
    code, summary = run(capsys, str(root), "--to", "null", "--config", str(config))
    assert code == 0
    assert summary["documents_skipped"] > 0
    assert summary["documents_indexed"] + summary["documents_skipped"] == gen["records"]


def test_progress_line():
    from recall_fast.cli.ingest import _progress_line
    from recall_fast.orchestration.acks import RunSummary

    summary = RunSummary()
    summary.totals.bytes_in = 5_000_000
    summary.totals.records = 1234
    summary.objects["done"] = 3
    summary.objects["reject"] = 1
    line = _progress_line(summary, 10, 2.0)
    assert line.startswith("\r4/10 objects  5.0 MB  2.5 MB/s  1,234 records  1 failed")


def test_ndjson_to_stdout_moves_the_summary_to_stderr(generated, capsysbinary):
    root, gen = generated
    assert main(["ingest", str(root), "--to", "ndjson:-", "--no-progress"]) == 0
    captured = capsysbinary.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == gen["records"]
    assert all(line.startswith(b'{"@timestamp"') for line in lines)
    assert b'"records": %d' % gen["records"] in captured.err
