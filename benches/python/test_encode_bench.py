"""Normalise + bulk-encode throughput against the Python ways of doing it, in one run.

Run: ``maturin develop --profile profiling && pytest benches/python/test_encode_bench.py
-p no:cacheprovider`` (numbers are MB/s of uncompressed Zeek TSV input, best round).

Compared (issue 4 targets):
- ``encode``: already-decoded batches -> ECS documents with ids, index routing and action
  lines. recall_fast (``Normalizer`` + ``BulkEncoder``) vs ``Table.to_pylist()`` + one orjson
  dict per row (target >= 10x) vs polars (``struct.json_encode`` + ``concat_str``, vectorised;
  target >= 3x). Two flavours of each baseline: the shared one from ``benches/baseline``
  (``@timestamp``, ``event`` and the flat Zeek row: about half the bytes recall_fast writes)
  and an ``ECS`` one that writes the same document shape (source/destination/network ECS
  fields plus the Zeek fields nested under ``zeek.<logtype>``; still no community id, URL
  split or per-day routing, which only flatters the baselines).
  Which ratio is fair: the ECS baselines write documents closest to recall_fast's, yet still
  smaller (measured: recall_fast's bodies are 5.75x the input, the ECS baselines' 3.7-4.0x, the
  shared ones' 3.2-3.5x), so ratios of input MB/s understate recall_fast's work. polars runs
  on one thread, like recall_fast (``POLARS_MAX_THREADS=1`` below).
- ``fused``: gzip TSV objects -> bulk bodies. ``ZeekProcessor`` vs gunzip + ``pyarrow.csv`` +
  ``to_pylist`` + orjson (target >= 6x).

recall_fast's bodies are read-only memoryviews of the native buffers (no copy into a
``bytes``), which is also what the sinks send: the Elasticsearch sink hands the view to the HTTP
client as it is. ``len(c.body)`` below therefore costs no copy, like ``len`` of the baselines'
``bytes``.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from typing import Any

import orjson
import pyarrow as pa
import pytest
from benches.baseline.zeek_python import bulk_bodies_orjson, read_tsv_pyarrow

from conftest import Corpus, record
from recall_fast import _native

# The targets compare one thread with one thread: without this polars would run its
# vectorised baseline on every core (set before polars starts its pool; an explicit
# POLARS_MAX_THREADS in the environment wins).
os.environ.setdefault("POLARS_MAX_THREADS", "1")
import polars as pl

ROUNDS = 3
FEED = 1 << 20


def measure(benchmark: Any, name: str, group: str, nbytes: int, fn: Callable[[], object]) -> None:
    benchmark.group = group
    benchmark.extra_info["bytes"] = nbytes
    benchmark.pedantic(fn, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    mbps = record(name, group, nbytes, benchmark.stats.stats.min)
    benchmark.extra_info["MB/s"] = round(mbps, 1)


@pytest.fixture(scope="module")
def decoded(tsv_corpus: Corpus) -> list[list[Any]]:
    """Native decoded batches per segment (file), decoded once outside the timing."""
    out = []
    for segment in tsv_corpus.segments:
        decoder = _native.ZeekDecoder(batch_rows=8192)
        out.append(decoder.feed(segment) + decoder.finish())
    return out


@pytest.fixture(scope="module")
def tables(tsv_corpus: Corpus) -> list[tuple[str, pa.Table]]:
    """pyarrow tables per segment (the baselines' input), decoded once outside the timing."""
    return [
        (seg.split(b"#path\t", 1)[1].split(b"\n", 1)[0].decode(), read_tsv_pyarrow(seg))
        for seg in tsv_corpus.segments
    ]


def test_encode_recall_fast(benchmark: Any, tsv_corpus: Corpus, decoded: list[list[Any]]) -> None:
    def run() -> int:
        total = 0
        for n, batches in enumerate(decoded):
            normalizer = _native.Normalizer("acme", "bucket", f"acme/s/{n}.log", "v1")
            encoder = _native.BulkEncoder()
            for b in batches:
                out = normalizer.normalize(b, first_record=b.first_record, log_type=b.log_type)
                total += sum(len(c.body) for c in encoder.encode(out, b.first_record))
            total += sum(len(c.body) for c in encoder.finish())
        return total

    measure(benchmark, "recall_fast normalize+encode", "encode", tsv_corpus.size, run)


def test_encode_to_pylist_orjson(
    benchmark: Any, tsv_corpus: Corpus, tables: list[tuple[str, pa.Table]]
) -> None:
    def run() -> int:
        total = 0
        for n, (log_type, table) in enumerate(tables):
            for body in bulk_bodies_orjson(
                table, index=f"recall-acme-zeek.{log_type}", id_prefix=str(n)
            ):
                total += len(body)
        return total

    measure(benchmark, "to_pylist+orjson", "encode", tsv_corpus.size, run)


def test_encode_polars(
    benchmark: Any, tsv_corpus: Corpus, tables: list[tuple[str, pa.Table]]
) -> None:
    frames = [(log_type, pl.from_arrow(table)) for log_type, table in tables]

    def run() -> int:
        total = 0
        for n, (log_type, df) in enumerate(frames):
            assert isinstance(df, pl.DataFrame)
            index = f"recall-acme-zeek.{log_type}"
            lines = df.with_row_index("_n").select(
                pl.concat_str(
                    [
                        pl.lit(f'{{"create":{{"_index":"{index}","_id":"{n}-'),
                        pl.col("_n").cast(pl.String),
                        pl.lit('"}}\n{"@timestamp":'),
                        pl.lit('"')
                        + pl.col("ts").dt.to_string("%Y-%m-%dT%H:%M:%S%.6fZ")
                        + pl.lit('"'),
                        pl.lit(f',"event":{{"module":"zeek","dataset":"zeek.{log_type}"}},"zeek":'),
                        pl.struct(pl.exclude("_n")).struct.json_encode(),
                        pl.lit("}\n"),
                    ]
                ).alias("line")
            )
            body = "".join(lines.get_column("line").to_list()).encode()
            total += len(body)
        return total

    measure(benchmark, "polars json_encode", "encode", tsv_corpus.size, run)


def nest(row: dict[str, Any]) -> dict[str, Any]:
    """Dotted Zeek names -> nested dicts (``id.orig_h`` -> ``{"id": {"orig_h": ...}}``)."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if value is None:
            continue
        head, dot, tail = name.partition(".")
        if dot:
            out.setdefault(head, {})[tail] = value
        else:
            out[name] = value
    return out


def test_encode_to_pylist_orjson_ecs(
    benchmark: Any, tsv_corpus: Corpus, tables: list[tuple[str, pa.Table]]
) -> None:
    def run() -> int:
        total = 0
        for n, (log_type, table) in enumerate(tables):
            index = f"recall-acme-zeek.{log_type}"
            lines: list[bytes] = []
            for i, row in enumerate(table.to_pylist()):
                doc = {
                    "@timestamp": row["ts"],
                    "event": {"module": "zeek", "dataset": f"zeek.{log_type}", "kind": "event"},
                    "organization": {"id": "acme"},
                    "source": {"ip": row.get("id.orig_h"), "port": row.get("id.orig_p")},
                    "destination": {"ip": row.get("id.resp_h"), "port": row.get("id.resp_p")},
                    "network": {"transport": row.get("proto", "tcp")},
                    "zeek": {log_type: nest(row)},
                }
                lines.append(orjson.dumps({"index": {"_index": index, "_id": f"{n}-{i}"}}))
                lines.append(orjson.dumps(doc, default=str))
                if len(lines) >= 20_000:
                    total += len(b"\n".join(lines)) + 1
                    lines = []
            total += len(b"\n".join(lines)) + 1
        return total

    measure(benchmark, "to_pylist+orjson ECS", "encode", tsv_corpus.size, run)


def test_encode_polars_ecs(
    benchmark: Any, tsv_corpus: Corpus, tables: list[tuple[str, pa.Table]]
) -> None:
    frames = [(log_type, pl.from_arrow(table)) for log_type, table in tables]

    def run() -> int:
        total = 0
        for n, (log_type, df) in enumerate(frames):
            assert isinstance(df, pl.DataFrame)
            index = f"recall-acme-zeek.{log_type}"
            plain = [c for c in df.columns if "." not in c]
            nested = {}
            for c in df.columns:
                head, dot, tail = c.partition(".")
                if dot:
                    nested.setdefault(head, []).append(pl.col(c).alias(tail))
            zeek = pl.struct(
                [pl.col(c) for c in plain] + [pl.struct(v).alias(k) for k, v in nested.items()]
            )
            transport = pl.col("proto") if "proto" in df.columns else pl.lit("tcp")
            doc = pl.struct(
                pl.col("ts").dt.to_string("%Y-%m-%dT%H:%M:%S%.6fZ").alias("@timestamp"),
                pl.struct(
                    pl.lit("zeek").alias("module"),
                    pl.lit(f"zeek.{log_type}").alias("dataset"),
                    pl.lit("event").alias("kind"),
                ).alias("event"),
                pl.struct(pl.lit("acme").alias("id")).alias("organization"),
                pl.struct(pl.col("id.orig_h").alias("ip"), pl.col("id.orig_p").alias("port")).alias(
                    "source"
                ),
                pl.struct(pl.col("id.resp_h").alias("ip"), pl.col("id.resp_p").alias("port")).alias(
                    "destination"
                ),
                pl.struct(transport.alias("transport")).alias("network"),
                pl.struct(zeek.alias(log_type)).alias("zeek"),
            )
            lines = df.with_row_index("_n").select(
                pl.concat_str(
                    [
                        pl.lit(f'{{"index":{{"_index":"{index}","_id":"{n}-'),
                        pl.col("_n").cast(pl.String),
                        pl.lit('"}}\n'),
                        doc.struct.json_encode(),
                        pl.lit("\n"),
                    ]
                ).alias("line")
            )
            total += len("".join(lines.get_column("line").to_list()).encode())
        return total

    measure(benchmark, "polars json_encode ECS", "encode", tsv_corpus.size, run)


@pytest.fixture(scope="module")
def gz_segments(tsv_corpus: Corpus) -> list[bytes]:
    return [gzip.compress(seg, compresslevel=6) for seg in tsv_corpus.segments]


def test_fused_recall_fast(benchmark: Any, tsv_corpus: Corpus, gz_segments: list[bytes]) -> None:
    def run() -> int:
        total = 0
        for n, data in enumerate(gz_segments):
            processor = _native.ZeekProcessor("acme", "bucket", f"acme/s/{n}.log.gz", "v1")
            for start in range(0, len(data), FEED):
                total += sum(len(c.body) for c in processor.feed(data[start : start + FEED]))
            total += sum(len(c.body) for c in processor.finish())
        return total

    measure(benchmark, "recall_fast ZeekProcessor", "fused", tsv_corpus.size, run)


def test_fused_python_pipeline(
    benchmark: Any, tsv_corpus: Corpus, gz_segments: list[bytes]
) -> None:
    def run() -> int:
        total = 0
        for n, data in enumerate(gz_segments):
            text = gzip.decompress(data)
            log_type = text.split(b"#path\t", 1)[1].split(b"\n", 1)[0].decode()
            table = read_tsv_pyarrow(text)
            for body in bulk_bodies_orjson(
                table, index=f"recall-acme-zeek.{log_type}", id_prefix=str(n)
            ):
                total += len(body)
        return total

    measure(benchmark, "gunzip+pyarrow.csv+to_pylist+orjson", "fused", tsv_corpus.size, run)
