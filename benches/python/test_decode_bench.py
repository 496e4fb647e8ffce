"""Decode throughput against the baselines, side by side in one run (not tests).

Run: ``maturin develop --profile profiling && pytest benches/python -p no:cacheprovider``
(pytest-benchmark; ``--benchmark-disable`` is not supported here, the numbers are the point).

Targets (issue 3): TSV -> fully typed Arrow, one thread, >= 2x ``pyarrow.csv.read_csv`` (one
thread, column types from ``#types``); Zeek JSON -> typed Arrow >= 3x ``pyarrow.json.read_json``
(one thread); gzip input decoded >= 0.7x the fastest gunzip alone (zlib, zlib-ng, ISA-L).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pytest

from conftest import Corpus, record
from recall_fast import ZeekDecoder

ROUNDS = 5
CHUNK = 4 << 20

# Zeek type -> the Arrow type pyarrow.csv can parse it into directly (time and interval as
# float seconds: pyarrow cannot read epoch decimals as timestamps; containers stay strings).
CSV_TYPES = {
    "time": pa.float64(),
    "interval": pa.float64(),
    "count": pa.uint64(),
    "int": pa.int64(),
    "double": pa.float64(),
    "port": pa.uint16(),
    "bool": pa.bool_(),
}


def measure(benchmark: Any, name: str, group: str, nbytes: int, fn: Callable[[], object]) -> None:
    benchmark.group = group
    benchmark.extra_info["bytes"] = nbytes
    benchmark.pedantic(fn, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    mbps = record(name, group, nbytes, benchmark.stats.stats.min)
    benchmark.extra_info["MB/s"] = round(mbps, 1)


def decode(data: bytes, *, inflate_thread: bool = True) -> int:
    decoder = ZeekDecoder(inflate_thread=inflate_thread)
    rows = 0
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        rows += sum(b.num_rows for b in decoder.feed(view[start : start + CHUNK]))
    return rows + sum(b.num_rows for b in decoder.finish())


def csv_job(segment: bytes) -> Callable[[], pa.Table]:
    """pyarrow.csv over one file's data lines, columns and types from its header."""
    lines = segment.split(b"\n")
    fields = next(line for line in lines if line.startswith(b"#fields")).decode().split("\t")[1:]
    types = next(line for line in lines if line.startswith(b"#types")).decode().split("\t")[1:]
    data = pa.py_buffer(b"\n".join(line for line in lines if line and not line.startswith(b"#")))
    read = pacsv.ReadOptions(column_names=fields, use_threads=False, block_size=16 << 20)
    parse = pacsv.ParseOptions(delimiter="\t", quote_char=False, escape_char=False)
    convert = pacsv.ConvertOptions(
        column_types={f: CSV_TYPES.get(t, pa.string()) for f, t in zip(fields, types, strict=True)},
        null_values=["-"],
        true_values=["T"],
        false_values=["F"],
        strings_can_be_null=True,
    )
    return lambda: pacsv.read_csv(pa.BufferReader(data), read, parse, convert)


def test_tsv_pyarrow_csv(benchmark: Any, tsv_corpus: Corpus) -> None:
    jobs = [csv_job(s) for s in tsv_corpus.segments]
    measure(benchmark, "pyarrow.csv.read_csv", "tsv", tsv_corpus.size, lambda: [j() for j in jobs])


def test_tsv_recall_fast(benchmark: Any, tsv_corpus: Corpus) -> None:
    assert decode(tsv_corpus.data) > 0
    measure(
        benchmark,
        "recall_fast ZeekDecoder",
        "tsv",
        tsv_corpus.size,
        lambda: decode(tsv_corpus.data),
    )


def test_json_pyarrow_json(benchmark: Any, json_corpus: Corpus) -> None:
    options = pajson.ReadOptions(use_threads=False, block_size=16 << 20)
    buffers = [pa.py_buffer(s) for s in json_corpus.segments]

    def run() -> None:
        for buf in buffers:
            pajson.read_json(pa.BufferReader(buf), read_options=options)

    measure(benchmark, "pyarrow.json.read_json", "json", json_corpus.size, run)


def test_json_recall_fast(benchmark: Any, json_corpus: Corpus) -> None:
    measure(
        benchmark,
        "recall_fast ZeekDecoder",
        "json",
        json_corpus.size,
        lambda: decode(json_corpus.data),
    )


def test_gunzip_zlib(benchmark: Any, tsv_corpus: Corpus, tsv_gzip: bytes) -> None:
    measure(
        benchmark, "zlib.decompress", "gzip", tsv_corpus.size, lambda: zlib.decompress(tsv_gzip, 31)
    )


def test_gunzip_zlib_ng(benchmark: Any, tsv_corpus: Corpus, tsv_gzip: bytes) -> None:
    zlib_ng = pytest.importorskip("zlib_ng.zlib_ng")
    measure(
        benchmark,
        "zlib_ng.decompress",
        "gzip",
        tsv_corpus.size,
        lambda: zlib_ng.decompress(tsv_gzip, 31),
    )


def test_gunzip_isal(benchmark: Any, tsv_corpus: Corpus, tsv_gzip: bytes) -> None:
    isal_zlib = pytest.importorskip("isal.isal_zlib")
    measure(
        benchmark,
        "isal (ISA-L) decompress",
        "gzip",
        tsv_corpus.size,
        lambda: isal_zlib.decompress(tsv_gzip, 31),
    )


def test_gzip_recall_fast(benchmark: Any, tsv_corpus: Corpus, tsv_gzip: bytes) -> None:
    measure(
        benchmark,
        "recall_fast ZeekDecoder (gzip)",
        "gzip",
        tsv_corpus.size,
        lambda: decode(tsv_gzip),
    )


def test_gzip_recall_fast_one_thread(benchmark: Any, tsv_corpus: Corpus, tsv_gzip: bytes) -> None:
    """The same without the inflate thread: what pipelining inflate and parse buys."""
    measure(
        benchmark,
        "recall_fast ZeekDecoder (gzip, 1 thread)",
        "gzip",
        tsv_corpus.size,
        lambda: decode(tsv_gzip, inflate_thread=False),
    )
