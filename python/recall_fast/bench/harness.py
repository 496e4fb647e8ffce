"""Micro and end-to-end measurements behind ``recall-fast bench`` (no pytest needed).

Stage: benchmark tooling. The micro benchmarks time the native calls against the plain-Python
baseline (:mod:`recall_fast.bench.baseline`) on generated data (:mod:`recall_fast.bench.synth`),
in the same process, best of ``rounds``. Each measurement keeps wall-clock and CPU time of the
calling thread (the native code runs on it): on a shared machine the CPU figure is the one to
size with, and the ratios compare like with like.

The end-to-end run (optional) ingests a generated corpus from a local directory, or objects
already in S3, into Elasticsearch with ``recall-fast ingest`` in a child process, and reports
documents/s, MB/s, CPU seconds per GB and peak RSS of that process; the document count is
checked in the cluster afterwards.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from recall_fast import _native
from recall_fast.bench import baseline, synth

if TYPE_CHECKING:
    import pyarrow as pa

#: Log types of the micro corpus, with their share of the bytes (roughly a sensor's mix).
CORPUS_MIX: tuple[tuple[str, float], ...] = (
    ("conn", 0.45),
    ("dns", 0.2),
    ("http", 0.15),
    ("ssl", 0.12),
    ("files", 0.08),
)
_FEED = 1 << 20


@dataclass(frozen=True)
class Measurement:
    """Best round of one benchmark: bytes of uncompressed input, wall and CPU seconds."""

    name: str
    group: str
    nbytes: int
    wall_s: float
    cpu_s: float

    @property
    def mb_per_s(self) -> float:
        return self.nbytes / max(self.wall_s, 1e-9) / 1e6

    @property
    def mb_per_cpu_s(self) -> float:
        return self.nbytes / max(self.cpu_s, 1e-9) / 1e6


@dataclass(frozen=True)
class Comparison:
    """recall_fast against the baseline of the same group, wall-clock and CPU ratios."""

    group: str
    subject: str
    baseline: str
    ratio_wall: float
    ratio_cpu: float


@dataclass(frozen=True)
class EndToEnd:
    """One ``recall-fast ingest`` run into Elasticsearch."""

    documents: int
    bytes_uncompressed: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float

    @property
    def docs_per_s(self) -> float:
        return self.documents / max(self.wall_s, 1e-9)

    @property
    def mb_per_s(self) -> float:
        return self.bytes_uncompressed / max(self.wall_s, 1e-9) / 1e6

    @property
    def cpu_s_per_gb(self) -> float:
        return self.cpu_s / max(self.bytes_uncompressed / 1e9, 1e-12)


@dataclass
class Corpus:
    """Generated logs, one uncompressed segment per log type, plus their gzip forms."""

    tsv: list[tuple[str, bytes]]
    json: list[bytes]
    gzip_tsv: list[bytes] = field(default_factory=list)

    @property
    def tsv_bytes(self) -> int:
        return sum(len(s) for _, s in self.tsv)

    @property
    def json_bytes(self) -> int:
        return sum(len(s) for s in self.json)


def make_corpus(mb: float, *, seed: int = 1) -> Corpus:
    """Generate about ``mb`` MB of TSV (and as many records as JSON) in memory."""
    tsv: list[tuple[str, bytes]] = []
    js: list[bytes] = []
    for log_type, share in CORPUS_MIX:
        probe = synth.synth_log(log_type, seed=seed, records=200)
        per_record = len(probe) / 200
        records = max(1, int(mb * 1e6 * share / per_record))
        tsv.append((log_type, synth.synth_log(log_type, seed=seed, records=records)))
        js.append(synth.synth_log(log_type, format="json", seed=seed, records=records))
    gz = [gzip.compress(s, compresslevel=6) for _, s in tsv]
    return Corpus(tsv, js, gz)


def best_of(
    name: str, group: str, nbytes: int, fn: Callable[[], object], rounds: int
) -> Measurement:
    """Run ``fn`` once to warm up, then ``rounds`` times; keep the fastest wall and CPU time."""
    fn()
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(max(1, rounds)):
        wall, cpu = time.perf_counter(), time.thread_time()
        fn()
        cpus.append(time.thread_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return Measurement(name, group, nbytes, min(walls), min(cpus))


def _decode(segments: Sequence[bytes]) -> int:
    rows = 0
    for data in segments:
        decoder = _native.ZeekDecoder()
        view = memoryview(data)
        for start in range(0, len(data), _FEED):
            rows += sum(b.num_rows for b in decoder.feed(view[start : start + _FEED]))
        rows += sum(b.num_rows for b in decoder.finish())
    return rows


def encode_native(decoded: Sequence[Sequence[_native.DecodedBatch]]) -> int:
    total = 0
    for n, batches in enumerate(decoded):
        normalizer = _native.Normalizer("bench", "bucket", f"bench/s/{n}.log", "v1")
        encoder = _native.BulkEncoder()
        for b in batches:
            out = normalizer.normalize(b, first_record=b.first_record, log_type=b.log_type)
            total += sum(len(c.body) for c in encoder.encode(out, b.first_record))
        total += sum(len(c.body) for c in encoder.finish())
    return total


def encode_python(tables: Sequence[tuple[str, pa.Table]]) -> int:
    """The baseline of :func:`encode_native`: ``to_pylist`` + an orjson dict per row."""
    total = 0
    for n, (lt, table) in enumerate(tables):
        bodies = baseline.bulk_bodies_orjson(
            table, index=f"recall-bench-zeek.{lt}", id_prefix=str(n)
        )
        total += sum(len(b) for b in bodies)
    return total


def fused_native(objects: Sequence[bytes]) -> int:
    total = 0
    for n, data in enumerate(objects):
        processor = _native.ZeekProcessor("bench", "bucket", f"bench/s/{n}.log.gz", "v1")
        for start in range(0, len(data), _FEED):
            total += sum(len(c.body) for c in processor.feed(data[start : start + _FEED]))
        total += sum(len(c.body) for c in processor.finish())
    return total


def fused_python(objects: Sequence[bytes]) -> int:
    total = 0
    for n, data in enumerate(objects):
        text = baseline.gunzip(data)
        log_type = text.split(b"#path\t", 1)[1].split(b"\n", 1)[0].decode()
        table = baseline.read_tsv_pyarrow(text)
        index = f"recall-bench-zeek.{log_type}"
        total += sum(
            len(b) for b in baseline.bulk_bodies_orjson(table, index=index, id_prefix=str(n))
        )
    return total


def micro(corpus: Corpus, rounds: int = 3) -> list[Measurement]:
    """Decode, encode and fused benchmarks, recall_fast first in each group."""
    tsv = [s for _, s in corpus.tsv]
    size = corpus.tsv_bytes
    decoded = []
    for data in tsv:
        decoder = _native.ZeekDecoder(batch_rows=8192)
        decoded.append(decoder.feed(data) + decoder.finish())
    tables = [(lt, baseline.read_tsv_pyarrow(s)) for lt, s in corpus.tsv]

    return [
        best_of("recall_fast ZeekDecoder", "tsv", size, lambda: _decode(tsv), rounds),
        best_of(
            "pyarrow.csv (#types)",
            "tsv",
            size,
            lambda: [baseline.read_tsv_pyarrow(s) for s in tsv],
            rounds,
        ),
        best_of(
            "recall_fast ZeekDecoder",
            "json",
            corpus.json_bytes,
            lambda: _decode(corpus.json),
            rounds,
        ),
        best_of(
            "pyarrow.json",
            "json",
            corpus.json_bytes,
            lambda: [baseline.read_json_pyarrow(s) for s in corpus.json],
            rounds,
        ),
        best_of(
            "recall_fast normalize+encode", "encode", size, lambda: encode_native(decoded), rounds
        ),
        best_of("to_pylist+orjson", "encode", size, lambda: encode_python(tables), rounds),
        best_of(
            "recall_fast ZeekProcessor",
            "fused",
            size,
            lambda: fused_native(corpus.gzip_tsv),
            rounds,
        ),
        best_of(
            "gunzip+pyarrow+to_pylist+orjson",
            "fused",
            size,
            lambda: fused_python(corpus.gzip_tsv),
            rounds,
        ),
    ]


def compare(measurements: Sequence[Measurement]) -> list[Comparison]:
    """Ratio of each group's recall_fast row to its baseline row (the other one)."""
    out = []
    groups: dict[str, list[Measurement]] = {}
    for m in measurements:
        groups.setdefault(m.group, []).append(m)
    for group, rows in groups.items():
        ours = [m for m in rows if m.name.startswith("recall_fast")]
        theirs = [m for m in rows if not m.name.startswith("recall_fast")]
        if not ours or not theirs:
            continue
        subject = ours[0]
        base = max(theirs, key=lambda m: m.mb_per_cpu_s)
        out.append(
            Comparison(
                group,
                subject.name,
                base.name,
                subject.mb_per_s / base.mb_per_s,
                subject.mb_per_cpu_s / base.mb_per_cpu_s,
            )
        )
    return out


def cores_needed(target_gb_per_min: float, mb_per_cpu_s: float) -> int:
    """Cores to sustain ``target_gb_per_min`` at ``mb_per_cpu_s`` MB per CPU second each."""
    need_mb_per_s = target_gb_per_min * 1000 / 60
    return max(1, math.ceil(need_mb_per_s / max(mb_per_cpu_s, 1e-9)))


def _http(method: str, url: str) -> object:
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def _delete_indices(es: str, pattern: str) -> None:
    rows = _http("GET", f"{es}/_cat/indices/{pattern}?format=json&expand_wildcards=all")
    for row in rows if isinstance(rows, list) else []:
        _http("DELETE", f"{es}/{row['index']}")


def _count(es: str, pattern: str) -> int:
    _http("POST", f"{es}/{pattern}/_refresh?allow_no_indices=true")
    answer = _http("GET", f"{es}/{pattern}/_count?allow_no_indices=true")
    return int(answer["count"]) if isinstance(answer, dict) else 0


def end_to_end(
    es_url: str,
    *,
    mb: float,
    seed: int = 1,
    s3_source: str | None = None,
    expected_documents: int | None = None,
) -> EndToEnd:
    """Ingest a generated corpus (or ``s3_source``) into ``es_url`` and measure the client.

    Documents go to ``recall-bench-<tenant>-zeek.<logtype>`` indices, deleted before and after.
    With a local corpus the indexed count must equal the generated record count.

    Raises:
        RuntimeError: The ingest failed or documents are missing in the cluster.
    """
    es = es_url.rstrip("/")
    if not es.startswith(("http://", "https://")):
        es = "http://" + es.split("://", 1)[-1]
    pattern = "recall-bench-*"
    env = dict(os.environ)
    env["RECALL_FAST_ELASTICSEARCH__INDEX_PATTERN"] = "recall-bench-<tenant>-zeek.<logtype>"
    with tempfile.TemporaryDirectory(prefix="recall-bench-") as tmp:
        if s3_source is None:
            minutes = 2
            summary = synth.generate(
                tmp,
                seed=seed,
                tenants=("bench",),
                sensors=1,
                minutes=minutes,
                mb_per_minute=mb / minutes,
            )
            source, raw = tmp, summary["bytes_uncompressed"]
            expected_documents = summary["records"]
        else:
            source, raw = s3_source, 0
        _delete_indices(es, pattern)
        to = "es://" + es.split("://", 1)[1]
        command = [
            sys.executable,
            "-m",
            "recall_fast",
            "ingest",
            source,
            "--to",
            to,
            "--no-progress",
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run(command, env=env, capture_output=True, check=False)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"recall-fast ingest exited {proc.returncode}: {proc.stderr[-2000:]!r}")
    report = json.loads(proc.stdout)
    if not isinstance(report, dict):
        raise RuntimeError(f"unexpected ingest summary: {proc.stdout[:200]!r}")
    # Objects from S3: their uncompressed size is unknown here, the summary's bytes_in (bytes
    # read) stands in, and the summary's own indexed count is what the cluster must hold.
    raw = raw or int(report.get("bytes_in", 0))
    if expected_documents is None:
        expected_documents = int(report.get("documents_indexed", 0))
    documents = _count(es, pattern)
    _delete_indices(es, pattern)
    if expected_documents is not None and documents != expected_documents:
        raise RuntimeError(f"{documents} documents indexed, {expected_documents} expected")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss of children is the largest child so far: this run's, as the ingest is by far
    # the largest child this process starts.
    return EndToEnd(documents, raw, wall, cpu, after.ru_maxrss / 1024)
