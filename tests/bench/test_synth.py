"""The seeded Zeek log generator (``recall_fast.bench.synth``, ``rust/recall-core/src/synth``).

Checked against the real logs of the developer data set (``../shared/data/zeek``, read at test
time, never copied): the generated ``#fields``/``#types`` equal the real Zeek headers, JSON keys
are the TSV fields, the decoder reads every generated log without quarantining a line, output is
deterministic by seed (also across worker counts), and the logs of a minute agree on uids.
"""

from __future__ import annotations

import gzip
import threading
from pathlib import Path

import orjson
import pytest

from recall_fast import _native, read_zeek
from recall_fast.bench import synth
from recall_fast.errors import ConfigError

# The real file whose header each generated log type must reproduce.
REAL_HEADERS = {
    "conn": "tsv/conn.zed-wrccdc.log.gz",
    "dns": "tsv/dns.log.gz",
    "http": "tsv/rita-sensor/2024-04-21/http.00:00:00-01:00:00.log.gz",
    "ssl": "tsv/ssl.log.gz",
    "files": "tsv/rita-sensor/2024-04-21/files.00:00:00-01:00:00.log.gz",
    "weird": "tsv/weird.log.gz",
    "notice": "tsv/notice.log.gz",
    "x509": "tsv/x509.log.gz",
}


def header(lines: list[str], name: str) -> list[str]:
    """The tab-separated values of meta line ``#name``."""
    for line in lines:
        if line.startswith(f"#{name}\t") or line.startswith(f"#{name} "):
            return line.split("\t")[1:] if "\t" in line else line.split(" ")[1:]
    raise AssertionError(f"no #{name} line")


def real_header_lines(shared_zeek: Path, log_type: str) -> list[str]:
    with gzip.open(shared_zeek / REAL_HEADERS[log_type], "rt") as f:
        return [line.rstrip("\n") for line, _ in zip(f, range(8), strict=False)]


def test_every_log_type_is_covered() -> None:
    assert set(REAL_HEADERS) == set(synth.ALL_LOG_TYPES)


@pytest.mark.parametrize("log_type", synth.ALL_LOG_TYPES)
def test_tsv_header_equals_real_zeek_header(shared_zeek: Path, log_type: str) -> None:
    real = real_header_lines(shared_zeek, log_type)
    text = synth.synth_log(log_type, records=50).decode()
    lines = text.splitlines()
    # #separator, #set_separator, #empty_field, #unset_field are byte-identical.
    assert lines[:4] == real[:4]
    assert lines[4] == f"#path\t{log_type}" == real[4]
    assert lines[5].startswith("#open\t2024-05-01-12-00-")
    assert header(lines, "fields") == header(real, "fields")
    assert header(lines, "types") == header(real, "types")
    assert lines[-1] == "#close\t2024-05-01-12-01-00"


def test_conn_header_is_zeeks_without_cluster_node_column(shared_zeek: Path) -> None:
    # The rita-sensor cluster adds _node_name in front; otherwise the same schema.
    with gzip.open(
        shared_zeek / "tsv/rita-sensor/2024-04-21/conn.00:00:00-01:00:00.log.gz", "rt"
    ) as f:
        real = [next(f).rstrip("\n") for _ in range(8)]
    lines = synth.synth_log("conn", records=5).decode().splitlines()
    assert header(real, "fields")[1:] == header(lines, "fields")
    assert header(real, "types")[1:] == header(lines, "types")


@pytest.mark.parametrize("log_type", synth.ALL_LOG_TYPES)
def test_tsv_rows_have_every_column(log_type: str) -> None:
    text = synth.synth_log(log_type, records=2_000, seed=11).decode()
    lines = text.splitlines()
    width = len(header(lines, "fields"))
    rows = [line for line in lines if not line.startswith("#")]
    assert len(rows) == 2_000
    assert all(len(row.split("\t")) == width for row in rows)
    stamps = [float(row.split("\t")[0]) for row in rows]
    assert stamps == sorted(stamps)
    assert 1_714_564_800 <= stamps[0] and stamps[-1] < 1_714_564_860


@pytest.mark.parametrize("log_type", synth.ALL_LOG_TYPES)
@pytest.mark.parametrize("json_time", ["epoch", "iso8601"])
def test_json_keys_are_the_tsv_fields_in_order(log_type: str, json_time: str) -> None:
    fields = header(synth.synth_log(log_type, records=1).decode().splitlines(), "fields")
    data = synth.synth_log(log_type, format="json", json_time=json_time, records=1_000)  # type: ignore[arg-type]
    position = {name: i for i, name in enumerate(fields)}
    for line in data.splitlines():
        record = orjson.loads(line)
        keys = list(record)
        if json_time == "iso8601":
            assert keys[:2] == ["_path", "_write_ts"]
            assert record["_path"] == log_type
            assert isinstance(record["ts"], str) and record["ts"].endswith("Z")
            keys = keys[2:]
        else:
            assert isinstance(record["ts"], float)
        assert keys[0] == "ts"
        assert set(keys) <= set(fields), set(keys) - set(fields)
        indices = [position[k] for k in keys]
        assert indices == sorted(indices)
        assert None not in record.values()


def test_tsv_and_json_describe_the_same_records() -> None:
    """The format only changes the spelling: same seed, same values."""
    tsv = synth.synth_log("conn", records=500, seed=4).decode().splitlines()
    fields = header(tsv, "fields")
    rows = [line.split("\t") for line in tsv if not line.startswith("#")]
    docs = [
        orjson.loads(line)
        for line in synth.synth_log("conn", format="json", records=500, seed=4).splitlines()
    ]
    assert len(rows) == len(docs)
    for row, doc in zip(rows, docs, strict=True):
        for name, value in zip(fields, row, strict=True):
            if value == "-":
                assert name not in doc
            elif name in ("ts", "duration"):
                assert abs(float(value) - doc[name]) < 1e-6
            elif name.endswith("_p") or name.endswith("bytes") or name.endswith("pkts"):
                assert int(value) == doc[name]
            elif name.startswith("local_"):
                assert doc[name] is (value == "T")
            else:
                assert value == doc[name], name


def test_escaping_matches_zeeks_rules() -> None:
    text = synth.synth_log("http", records=20_000, seed=5).decode()
    for needle in ["\\x09", "\\x2c", "\\x01", "\\xff", "\\\\", "\t(empty)\t", "\t\\x2d\t", "café"]:
        assert needle in text, needle
    docs = [
        orjson.loads(line)
        for line in synth.synth_log("http", format="json", records=20_000, seed=5).splitlines()
    ]
    uris = {d["uri"] for d in docs}
    assert "/path\twith\ttab" in uris  # JSON carries the real tab
    assert "/cgi-bin/test.cgi?x=\\x01\\x02" in uris  # control bytes as literal \xNN text
    assert "/\\xff\\xfe.asp" in uris  # invalid UTF-8 likewise
    assert any(d.get("user_agent") == "-" for d in docs)


@pytest.mark.parametrize("fmt", ["tsv", "json"])
@pytest.mark.parametrize("log_type", synth.ALL_LOG_TYPES)
def test_generated_logs_decode_without_quarantine(log_type: str, fmt: str) -> None:
    data = synth.synth_log(log_type, format=fmt, records=3_000, seed=2)  # type: ignore[arg-type]
    stream = read_zeek(data)
    decoded = sum(batch.num_rows for batch in stream)
    assert stream.quarantine == []
    assert stream.stats["quarantined"] == 0
    assert decoded == stream.stats["records"] == 3_000


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_same_seed_same_bytes_whatever_the_worker_count(tmp_path: Path) -> None:
    kwargs = {"minutes": 2, "records_per_minute": 300, "log_types": synth.ALL_LOG_TYPES}
    one = synth.generate(tmp_path / "one", workers=1, **kwargs)  # type: ignore[arg-type]
    three = synth.generate(tmp_path / "three", workers=3, **kwargs)  # type: ignore[arg-type]
    assert one == three
    assert tree(tmp_path / "one") == tree(tmp_path / "three")
    other = synth.generate(tmp_path / "other", seed=2, **kwargs)  # type: ignore[arg-type]
    assert other["files"] == one["files"]
    assert tree(tmp_path / "other") != tree(tmp_path / "one")


def test_layout_and_summary(tmp_path: Path) -> None:
    summary = synth.generate(tmp_path, tenants=("acme", "globex"), sensors=2, minutes=3)
    keys = set(tree(tmp_path))
    expected = {
        synth.object_key(tenant, f"sensor-0{s}", log_type, 1_714_564_800 + 60 * m)
        for tenant in ("acme", "globex")
        for s in (1, 2)
        for m in range(3)
        for log_type in synth.DEFAULT_LOG_TYPES
    }
    assert keys == expected
    assert "acme/sensor-01/conn/2024/05/01/conn.12:00-12:01.log.gz" in keys
    assert summary["files"] == len(expected) == 60
    assert summary["records_per_minute"]["conn"] == 1_000
    assert summary["records"] == sum(t["records"] for t in summary["log_types"].values())
    assert summary["bytes_written"] == sum((tmp_path / k).stat().st_size for k in keys)
    assert not list(tmp_path.rglob("*.partial"))


def test_object_key_formats() -> None:
    assert (
        synth.object_key(
            "a", "sensor-01", "dns", "2024-05-01T23:59:00Z", format="json", compression="zstd"
        )
        == "a/sensor-01/dns/2024/05/01/dns.23:59-00:00.json.zst"
    )
    assert (
        synth.object_key("a", "s", "x509", 0, compression="none")
        == "a/s/x509/1970/01/01/x509.00:00-00:01.log"
    )


def test_mb_per_minute_lands_near_the_target(tmp_path: Path) -> None:
    summary = synth.generate(
        tmp_path, tenants=["acme"], sensors=2, minutes=1, compression="none", mb_per_minute=3.0
    )
    assert 2.4e6 < summary["bytes_uncompressed"] < 3.6e6


def test_records_per_minute_mapping(tmp_path: Path) -> None:
    summary = synth.generate(
        tmp_path, tenants=["acme"], sensors=1, minutes=1, records_per_minute={"conn": 200, "dns": 7}
    )
    assert summary["log_types"]["conn"]["records"] == 200
    assert summary["log_types"]["dns"]["records"] == 7
    assert summary["log_types"]["http"]["records"] == 24  # 0.12 per conn record


@pytest.mark.parametrize(
    ("start", "epoch"),
    [
        ("2024-05-01T12:00:00Z", 1_714_564_800),
        ("2024-05-01T14:00:00+02:00", 1_714_564_800),
        ("2024-05-01 12:00", 1_714_564_800),
        (1_714_564_800, 1_714_564_800),
    ],
)
def test_parse_start(start: str | int, epoch: int) -> None:
    assert synth.parse_start(start) == epoch


@pytest.mark.parametrize("start", ["2024-05-01T12:00:30Z", "yesterday", 61, -60, True])
def test_parse_start_rejects(start: str | int) -> None:
    with pytest.raises(ConfigError):
        synth.parse_start(start)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"log_types": ["conn", "smtp"]},
        {"tenants": ["a/b"]},
        {"tenants": []},
        {"format": "xml"},
        {"compression": "brotli"},
        {"compression": "gzip", "compression_level": 12},
        {"records_per_minute": 10, "mb_per_minute": 1.0},
        {"mb_per_minute": -1.0},
        {"records_per_minute": {"conn": 0}},
        {"sensors": 0},
        {"workers": 0},
    ],
)
def test_invalid_options_raise_config_error(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        synth.generate(tmp_path, minutes=1, **kwargs)  # type: ignore[arg-type]
    assert not list(tmp_path.rglob("*.gz"))


def test_synth_log_rejects_bad_arguments() -> None:
    with pytest.raises(ConfigError):
        synth.synth_log("smtp")
    with pytest.raises(ConfigError):
        synth.synth_log("conn", records=0)


def test_generation_releases_the_gil() -> None:
    """While a thread is inside the native generator, this thread keeps running Python code."""
    started = threading.Event()
    done = threading.Event()

    def work() -> None:
        started.set()
        _native.synth_log("conn", records=400_000)
        done.set()

    thread = threading.Thread(target=work)
    thread.start()
    started.wait()
    spins = 0
    while not done.is_set():
        spins += 1
    thread.join()
    # Holding the GIL for the whole call would leave this loop nothing to do until it returns.
    assert spins > 1_000
