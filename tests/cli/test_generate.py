"""``recall-fast generate`` run in-process: layout, compression, headers, JSON keys, exit codes."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest
import zstandard

from recall_fast.cli.main import main

REAL_HEADERS = {
    "conn": "tsv/conn.zed-wrccdc.log.gz",
    "dns": "tsv/dns.log.gz",
    "http": "tsv/http.rita-proxy.log.gz",
    "ssl": "tsv/ssl.log.gz",
    "files": "tsv/rita-sensor/2024-04-21/files.00:00:00-01:00:00.log.gz",
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, object]]:
    code = main(["generate", *argv])
    out = capsys.readouterr().out
    return code, orjson.loads(out) if out.strip() else {}


def meta(lines: list[str], name: str) -> list[str]:
    line = next(line for line in lines if line.startswith(f"#{name}\t"))
    return line.split("\t")[1:]


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_defaults_write_the_s3_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "recall-input"
    code, summary = run(capsys, "--out", str(out), "--minutes", "2", "--records-per-minute", "200")
    assert code == 0
    keys = {str(p.relative_to(out)) for p in files_under(out)}
    assert len(keys) == summary["files"] == 2 * 2 * 2 * 5
    assert "acme/sensor-01/conn/2024/05/01/conn.12:00-12:01.log.gz" in keys
    assert "globex/sensor-02/files/2024/05/01/files.12:01-12:02.log.gz" in keys
    assert summary["out"] == str(out)
    assert summary["records_per_minute"]["conn"] == 200  # type: ignore[index]
    assert summary["bytes_written"] < summary["bytes_uncompressed"]  # type: ignore[operator]


def test_gzip_tsv_headers_match_real_zeek(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], shared_zeek: Path
) -> None:
    flags = "--tenants acme --sensors 1 --minutes 1 --records-per-minute 100 --seed 9"
    code, _ = run(capsys, "--out", str(tmp_path), *flags.split())
    assert code == 0
    for log_type, real_name in REAL_HEADERS.items():
        (path,) = tmp_path.glob(f"acme/sensor-01/{log_type}/2024/05/01/*.log.gz")
        lines = gzip.decompress(path.read_bytes()).decode().splitlines()
        with gzip.open(shared_zeek / real_name, "rt") as f:
            real = [next(f).rstrip("\n") for _ in range(8)]
        assert meta(lines, "fields") == meta(real, "fields"), log_type
        assert meta(lines, "types") == meta(real, "types"), log_type
        assert lines[:5] == real[:5], log_type
        assert lines[-1].startswith("#close\t2024-05-01-12-01-00")


def test_zstd_json_lines_parse_with_tsv_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    json_dir, tsv_dir = tmp_path / "json", tmp_path / "tsv"
    common = (
        "--tenants acme --sensors 1 --minutes 1 --records-per-minute 150 "
        "--log-types conn,dns,http,ssl,files,weird,notice,x509"
    ).split()
    json_flags = ["--format", "json", "--compression", "zstd", *common]
    assert run(capsys, "--out", str(json_dir), *json_flags)[0] == 0
    assert run(capsys, "--out", str(tsv_dir), "--compression", "none", *common)[0] == 0
    json_files = files_under(json_dir)
    assert len(json_files) == 8
    for path in json_files:
        assert path.name.endswith(".json.zst")
        log_type = path.name.split(".")[0]
        data = zstandard.ZstdDecompressor().stream_reader(path.read_bytes()).read()
        (tsv_path,) = tsv_dir.glob(f"acme/sensor-01/{log_type}/2024/05/01/*.log")
        fields = meta(tsv_path.read_text().splitlines(), "fields")
        rows = [orjson.loads(line) for line in data.splitlines()]
        assert rows, log_type
        for row in rows:
            assert next(iter(row)) == "ts"
            assert set(row) <= set(fields), (log_type, set(row) - set(fields))


def test_iso_json_has_path_and_write_ts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flags = (
        "--format json --json-time iso8601 --compression none --tenants t1 --sensors 1 "
        "--minutes 1 --log-types dns --records-per-minute dns=25"
    )
    code, _ = run(capsys, "--out", str(tmp_path), *flags.split())
    assert code == 0
    (path,) = files_under(tmp_path)
    assert str(path.relative_to(tmp_path)) == "t1/sensor-01/dns/2024/05/01/dns.12:00-12:01.json"
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert len(rows) == 25
    assert all(list(r)[:3] == ["_path", "_write_ts", "ts"] and r["_path"] == "dns" for r in rows)


def test_same_flags_same_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--minutes", "1", "--records-per-minute", "50", "--compression", "gzip", "--seed", "3"]
    assert run(capsys, "--out", str(tmp_path / "a"), *argv)[0] == 0
    assert run(capsys, "--out", str(tmp_path / "b"), "--workers", "2", *argv)[0] == 0
    a = {str(p.relative_to(tmp_path / "a")): p.read_bytes() for p in files_under(tmp_path / "a")}
    b = {str(p.relative_to(tmp_path / "b")): p.read_bytes() for p in files_under(tmp_path / "b")}
    assert a == b


def test_start_in_epoch_seconds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flags = "--start 0 --tenants a --sensors 1 --minutes 1 --log-types conn --records-per-minute 5"
    code, _ = run(capsys, "--out", str(tmp_path), *flags.split())
    assert code == 0
    (path,) = files_under(tmp_path)
    assert str(path.relative_to(tmp_path)) == "a/sensor-01/conn/1970/01/01/conn.00:00-00:01.log.gz"


@pytest.mark.parametrize(
    "argv",
    [
        ["--log-types", "conn,smtp"],
        ["--tenants", "../evil"],
        ["--start", "2024-05-01T12:00:30Z"],
        ["--compression", "gzip", "--compression-level", "11"],
        ["--workers", "0"],
    ],
)
def test_configuration_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code = main(["generate", "--out", str(tmp_path), "--minutes", "1", *argv])
    captured = capsys.readouterr()
    assert code == 2
    assert "recall-fast generate:" in captured.err
    assert captured.out == ""


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "generate",
                "--out",
                str(tmp_path),
                *"--records-per-minute 1 --mb-per-minute 1".split(),
            ]
        )
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        main(["generate", "--records-per-minute", "conn=x"])
