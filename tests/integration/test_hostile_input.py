"""Hostile input through the public entry point (`recall-fast ingest`): defined outcome, bounded
memory, no crash.

Each case is a file built by the test (bombs are built from repeated compressed blocks: a few
MiB on disk that inflate to more than 10 GiB; nothing large is ever written) and ingested by a
child process, so a crash or a runaway allocation is observed rather than suffered. The child
reports its peak RSS (``ru_maxrss``, which, unlike polling, cannot miss a spike); the bound is
on its excess over a run of the same process on a small valid file.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import zstandard

from recall_fast import _native
from tests.integration.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MIB = 1 << 20
GIB = 1 << 30
RSS_BOUND = 300 * MIB

_RUNNER = """
import json, resource, sys
from recall_fast.cli.main import main
code = main(["ingest", *sys.argv[1:], "--to", "null", "--no-progress", "--tenant", "acme"])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"code": code, "peak": peak}), file=sys.stderr)
"""


def ingest(path: Path, *flags: str) -> tuple[int, dict[str, object], int]:
    """Ingest ``path`` in a child process; return exit code, summary and peak RSS."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "python") + os.pathsep + env.get("PYTHONPATH", "")
    env["RECALL_FAST_DECODE__THREADS"] = "2"
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(path), *flags],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"child crashed ({done.returncode}): {done.stderr[-3000:]}"
    last = json.loads(done.stderr.strip().splitlines()[-1])
    return int(last["code"]), json.loads(done.stdout), int(last["peak"])


@pytest.fixture(scope="module")
def baseline_rss(tmp_path_factory) -> int:
    path = tmp_path_factory.mktemp("baseline") / "conn.log"
    path.write_bytes(_native.synth_log("conn", records=100))
    code, summary, peak = ingest(path)
    assert code == 0 and summary["documents_indexed"] == 100
    return peak


def failure(summary: dict[str, object]) -> dict[str, str]:
    failures = summary["failures"]
    assert isinstance(failures, list) and len(failures) == 1
    return failures[0]


# --- bombs -------------------------------------------------------------------------------------


def gzip_bomb(path: Path, gib: int) -> None:
    """``gib`` gzip members, each 1 GiB of zeros (valid CRC and ISIZE), about 1 MiB each.

    A full flush ends a deflate block on a byte boundary with no back references across it, so
    one compressed 1 MiB block can be repeated to make a long, valid stream.
    """
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(MIB)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    end = deflate.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(GIB // MIB):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    member = header + block * (GIB // MIB) + end + struct.pack("<II", crc, GIB & 0xFFFFFFFF)
    with path.open("wb") as out:
        for _ in range(gib):
            out.write(member)


def zstd_bomb(path: Path, gib: int) -> None:
    """``gib`` zstd frames of 1 GiB of zeros each (about 32 KiB per frame)."""
    compressor = zstandard.ZstdCompressor(level=1).compressobj(size=GIB)
    zeros = bytes(8 * MIB)
    frame = b"".join(compressor.compress(zeros) for _ in range(GIB // len(zeros)))
    frame += compressor.flush()
    with path.open("wb") as out:
        for _ in range(gib):
            out.write(frame)


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_bomb_stopped_by_the_ratio_guard(tmp_path, baseline_rss, codec):
    path = tmp_path / ("conn.log.gz" if codec == "gzip" else "conn.log.zst")
    (gzip_bomb if codec == "gzip" else zstd_bomb)(path, 11)
    assert path.stat().st_size < 16 * MIB
    code, summary, peak = ingest(path)
    assert code == 1
    failed = failure(summary)
    assert failed["outcome"] == "reject" and failed["error_type"] == "limit_exceeded"
    assert "decompression ratio" in failed["reason"]
    assert summary["documents_indexed"] == 0
    assert peak - baseline_rss < RSS_BOUND


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_bomb_stopped_by_the_byte_cap(tmp_path, baseline_rss, codec):
    path = tmp_path / ("conn.log.gz" if codec == "gzip" else "conn.log.zst")
    (gzip_bomb if codec == "gzip" else zstd_bomb)(path, 11)
    code, summary, peak = ingest(
        path, "--max-ratio", "0", "--max-decompressed-bytes", str(256 * MIB)
    )
    assert code == 1
    failed = failure(summary)
    assert failed["outcome"] == "reject" and failed["error_type"] == "limit_exceeded"
    assert "decompressed bytes" in failed["reason"]
    assert peak - baseline_rss < RSS_BOUND


# --- hostile content ---------------------------------------------------------------------------


def conn_parts(records: int) -> tuple[bytes, bytes]:
    """A synthetic conn log split into its header block and its data lines."""
    log = _native.synth_log("conn", records=records)
    end = log.index(b"\n", log.index(b"\n#types") + 1) + 1
    return log[:end], log[end : log.rindex(b"#close")]


def test_line_far_over_the_limit_is_quarantined(tmp_path, baseline_rss):
    header, body = conn_parts(10)
    path = tmp_path / "conn.log"
    with path.open("wb") as out:
        out.write(header + body)
        for _ in range(256):  # one 256 MiB line
            out.write(b"x" * MIB)
        out.write(b"\n" + body)
    code, summary, peak = ingest(path)
    assert code == 0
    assert summary["documents_indexed"] == 20
    assert summary["lines_quarantined"] == 1
    assert peak - baseline_rss < RSS_BOUND


def test_millions_of_tiny_lines(tmp_path, baseline_rss):
    header, body = conn_parts(10)
    path = tmp_path / "conn.log"
    path.write_bytes(header + body + b"x\n" * 3_000_000)
    code, summary, peak = ingest(path)
    assert code == 0
    assert summary["documents_indexed"] == 10
    assert summary["lines_quarantined"] == 3_000_000
    assert peak - baseline_rss < RSS_BOUND


def test_deep_and_huge_json_values(tmp_path, baseline_rss):
    good = b'{"ts":1714564800.0,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1,' \
        b'"id.resp_h":"10.0.0.2","id.resp_p":80,"proto":"tcp"}\n'  # fmt: skip
    deep = b'{"ts":1714564800.0,"x":' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"}\n"
    wide_array = b'{"ts":1714564800.0,"x":[' + b"1," * 400_000 + b"1]}\n"
    huge_string = b'{"ts":1714564800.0,"x":"' + b"y" * (900 * 1024) + b'"}\n'
    too_long = b'{"ts":1714564800.0,"x":"' + b"y" * (4 * MIB) + b'"}\n'
    path = tmp_path / "conn.json"
    path.write_bytes(good + deep + wide_array + huge_string + too_long + good)
    code, summary, peak = ingest(path, "--format", "json")
    assert code == 0
    assert summary["documents_indexed"] + summary["lines_quarantined"] == 6
    assert summary["documents_indexed"] >= 2
    assert summary["lines_quarantined"] >= 2  # the 4 MiB line and the 100k-deep one at least
    assert peak - baseline_rss < RSS_BOUND


def test_nul_bytes(tmp_path, baseline_rss):
    header, body = conn_parts(20)
    lines = body.splitlines(keepends=True)
    poisoned = [
        line.replace(b"\t", b"\x00\t", 1) if i % 2 else line for i, line in enumerate(lines)
    ]
    path = tmp_path / "conn.log"
    path.write_bytes(header + b"".join(poisoned) + b"\x00" * MIB + b"\n")
    code, summary, peak = ingest(path)
    assert code == 0
    assert summary["documents_indexed"] + summary["lines_quarantined"] == 21
    assert summary["documents_indexed"] >= 10  # the untouched lines
    assert peak - baseline_rss < RSS_BOUND


def test_header_with_thousands_of_columns(tmp_path, baseline_rss):
    n = 5000
    fields = "\t".join(f"f{i}" for i in range(n))
    types = "\t".join("string" for _ in range(n))
    row = "\t".join(str(i) for i in range(n))
    text = f"#separator \\x09\n#path\tconn\n#fields\t{fields}\n#types\t{types}\n"
    path = tmp_path / "conn.log"
    path.write_text(text + (row + "\n") * 200)
    code, summary, peak = ingest(path)
    assert code in (0, 1)
    if code == 1:
        assert failure(summary)["outcome"] == "reject"
    else:
        assert summary["documents_indexed"] + summary["lines_quarantined"] == 200
    assert peak - baseline_rss < RSS_BOUND


def test_schema_switch_on_every_line(tmp_path, baseline_rss):
    header, body = conn_parts(1)
    lines = [
        f"#separator \\x09\n#path\tconn\n#fields\tts\tuid\tc{i}\n#types\ttime\tstring\tcount\n"
        f"1714564800.{i:06d}\tC{i}\t{i}\n"
        for i in range(20_000)
    ]
    path = tmp_path / "conn.log"
    path.write_bytes(header + body + "".join(lines).encode())
    code, summary, peak = ingest(path)
    assert code == 0
    assert summary["documents_indexed"] + summary["lines_quarantined"] == 20_001
    # JSON has no header: every line brings a new key. Nulls are written lazily (a row costs its
    # own keys, not the columns seen so far) and a log type's columns are capped at
    # decode.max_columns (1,024): past it, a line with a new key is quarantined.
    keys = 20_000
    json_lines = b"".join(b'{"ts":1714564800.0,"k%d":%d}\n' % (i, i) for i in range(keys))
    json_path = tmp_path / "conn.json"
    json_path.write_bytes(json_lines)
    code, summary, json_peak = ingest(json_path, "--format", "json")
    assert code == 0
    assert summary["documents_indexed"] + summary["lines_quarantined"] == keys
    assert 900 <= summary["documents_indexed"] < 1024
    assert max(peak, json_peak) - baseline_rss < RSS_BOUND
    assert json_peak - baseline_rss < 128 * MIB
