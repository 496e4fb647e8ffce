"""Interleaved side-by-side ratios: baseline and recall_fast alternate round by round.

Run: ``python benches/python/interleave.py [tsv,json,gzip,encode,fused] [--rounds N]``.

pytest-benchmark (the ``test_*_bench.py`` files, gated by ``scripts/bench-smoke``) runs every
round of one benchmark before the next benchmark starts, so on a shared machine a neighbour's
burst can land on one side of a ratio only. Here each round runs every contender once, in turn,
and the ratio is taken between the best rounds: load that comes and goes hits both sides. Same
corpora (``RECALL_BENCH_MB``, real logs from ``shared/data/zeek``) and the same baseline code as
the pytest benches. Prints MB/s of uncompressed input per contender and each ratio.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("POLARS_MAX_THREADS", "1")

import pyarrow as pa
import pyarrow.json as pajson
import test_decode_bench as decode_bench
from benches.baseline.zeek_python import read_tsv_pyarrow

import conftest
from recall_fast import _native
from recall_fast.bench import harness

GROUPS = ("tsv", "json", "gzip", "encode", "fused")


def best_seconds(contenders: Mapping[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Best wall time of each contender, the contenders taking turns every round."""
    best = dict.fromkeys(contenders, float("inf"))
    for fn in contenders.values():  # warm-up round, not timed
        fn()
    for _ in range(rounds):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def report(group: str, size: int, best: dict[str, float], subject: str) -> None:
    for name, seconds in best.items():
        mbps = size / seconds / 1e6
        ratio = best[name] / best[subject] if name != subject else 1.0
        note = "" if name == subject else f"   recall_fast is {ratio:.2f}x this"
        print(f"  {group:6} {name:40} {mbps:8.1f} MB/s{note}")


def tsv_group(rounds: int) -> None:
    corpus = conftest._build("tsv")
    jobs = [decode_bench.csv_job(s) for s in corpus.segments]
    contenders = {
        "pyarrow.csv.read_csv": lambda: [job() for job in jobs],
        "recall_fast ZeekDecoder": lambda: decode_bench.decode(corpus.data),
    }
    report("tsv", corpus.size, best_seconds(contenders, rounds), "recall_fast ZeekDecoder")


def json_group(rounds: int) -> None:
    corpus = conftest._build("json")
    options = pajson.ReadOptions(use_threads=False, block_size=16 << 20)
    buffers = [pa.py_buffer(s) for s in corpus.segments]
    contenders = {
        "pyarrow.json.read_json": lambda: [
            pajson.read_json(pa.BufferReader(b), read_options=options) for b in buffers
        ],
        "recall_fast ZeekDecoder": lambda: decode_bench.decode(corpus.data),
    }
    report("json", corpus.size, best_seconds(contenders, rounds), "recall_fast ZeekDecoder")


def gzip_group(rounds: int) -> None:
    corpus = conftest._build("tsv")
    data = gzip.compress(corpus.data, compresslevel=6)
    contenders: dict[str, Callable[[], object]] = {
        "zlib gunzip": lambda: zlib.decompress(data, wbits=31),
    }
    try:
        from isal import igzip

        contenders["isal (ISA-L) gunzip"] = lambda: igzip.decompress(data)  # type: ignore[no-untyped-call]
    except ImportError:
        pass
    contenders["recall_fast ZeekDecoder (gzip)"] = lambda: decode_bench.decode(data)
    contenders["recall_fast ZeekDecoder (gzip, 1 thread)"] = lambda: decode_bench.decode(
        data, inflate_thread=False
    )
    report("gzip", corpus.size, best_seconds(contenders, rounds), "recall_fast ZeekDecoder (gzip)")


def encode_group(rounds: int) -> None:
    corpus = conftest._build("tsv")
    decoded = []
    for segment in corpus.segments:
        decoder = _native.ZeekDecoder(batch_rows=8192)
        decoded.append(decoder.feed(segment) + decoder.finish())
    tables = [
        (seg.split(b"#path\t", 1)[1].split(b"\n", 1)[0].decode(), read_tsv_pyarrow(seg))
        for seg in corpus.segments
    ]
    contenders = {
        "to_pylist+orjson": lambda: harness.encode_python(tables),
        "recall_fast normalize+encode": lambda: harness.encode_native(decoded),
    }
    report("encode", corpus.size, best_seconds(contenders, rounds), "recall_fast normalize+encode")


def fused_group(rounds: int) -> None:
    corpus = conftest._build("tsv")
    segments = [gzip.compress(s, compresslevel=6) for s in corpus.segments]
    contenders = {
        "gunzip+pyarrow.csv+to_pylist+orjson": lambda: harness.fused_python(segments),
        "recall_fast ZeekProcessor": lambda: harness.fused_native(segments),
    }
    report("fused", corpus.size, best_seconds(contenders, rounds), "recall_fast ZeekProcessor")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="?", default=",".join(GROUPS), help="comma-separated")
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per contender")
    args = parser.parse_args(argv)
    groups = [g for g in args.groups.split(",") if g]
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        parser.error(f"unknown group(s) {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    if _native.build_profile == "debug":
        parser.error("recall_fast is a debug build: maturin develop --profile profiling")
    print(f"interleaved best of {args.rounds} (MB/s of uncompressed input):")
    runners = {
        "tsv": tsv_group,
        "json": json_group,
        "gzip": gzip_group,
        "encode": encode_group,
        "fused": fused_group,
    }
    for group in groups:
        runners[group](args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
