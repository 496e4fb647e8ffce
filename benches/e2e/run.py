"""End-to-end benchmark driver: generate, upload, ingest with each system, verify, report.

``python -m benches.e2e --gb 0.2 --rounds 3 [--es-url URL] [--s3-url URL] [--out FILE]``

1. A seeded corpus from ``recall_fast.bench.synth.generate`` (Zeek TSV, gzip; ``--gb`` of
   uncompressed text) is uploaded to S3: a moto server started here (``tests.services``) or the
   endpoint given with ``--s3-url``.
2. Each round runs, one after the other, in a fresh child process measured by
   ``benches.e2e.measure`` (CPU seconds and peak RSS of that process alone):
   - ``recall_fast -> es``: ``recall-fast ingest s3://bucket/prefix --to es://...``;
   - ``python -> es``: ``benches.e2e.baseline`` (aiobotocore, gzip, pyarrow.csv, to_pylist,
     async_streaming_bulk), into its own indices of the same node;
   - ``recall_fast -> null``: the same pipeline with the null sink (everything but the cluster).
   Before a round the system's indices are deleted; after it the node is refreshed and the
   documents counted: every run must index exactly the corpus' record count (nothing lost).
3. Reported per system: median and best of the rounds for documents/s and MB/s of uncompressed
   input, median CPU seconds per GB, peak RSS. Table on stdout, JSON in ``--out``
   (default ``bench-results/e2e-<timestamp>.json``).

The Elasticsearch node is a real one (``tests.services.ElasticsearchNode``, started here unless
``--es-url``); it shares the machine with the client, so wall-clock rates include its cost,
while the CPU figure counts the client process only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import recall_fast
from recall_fast.bench import synth

BUCKET = "recall-bench"
PREFIX = ""
TENANT = "acme"
RF_INDEX = "bench-rf-<tenant>-zeek.<logtype>"
PY_INDEX = "bench-py"
SYSTEMS = ("recall_fast -> es", "python -> es", "recall_fast -> null")


def _http(method: str, url: str, body: bytes | None = None) -> Any:
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read() or b"null")


def delete_indices(es: str, pattern: str) -> None:
    """Delete the indices matching ``pattern`` by name (wildcard deletes may be refused)."""
    for row in _http("GET", f"{es}/_cat/indices/{pattern}?format=json&expand_wildcards=all"):
        _http("DELETE", f"{es}/{row['index']}")


def count(es: str, pattern: str) -> int:
    _http("POST", f"{es}/{pattern}/_refresh?allow_no_indices=true")
    return int(_http("GET", f"{es}/{pattern}/_count?allow_no_indices=true")["count"])


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def upload(directory: Path, endpoint: str) -> int:
    """Upload every file under ``directory`` with its relative path as key; return the count."""
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    )
    try:
        s3.create_bucket(Bucket=BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    n = 0
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        s3.upload_file(str(path), BUCKET, PREFIX + path.relative_to(directory).as_posix())
        n += 1
    return n


def measured(command: list[str], env: dict[str, str]) -> tuple[dict[str, Any], str]:
    """Run ``command`` under ``benches.e2e.measure``; return its usage and the child's stdout."""
    wrapped = [sys.executable, "-m", "benches.e2e.measure", "--", *command]
    proc = subprocess.run(wrapped, env=env, stdout=subprocess.PIPE, check=True, text=True)
    out, _, last = proc.stdout.rstrip("\n").rpartition("\n")
    usage: dict[str, Any] = json.loads(last)
    if usage["returncode"] != 0:
        raise RuntimeError(f"{command[:4]} exited {usage['returncode']}: {out[-2000:]}")
    return usage, out


def run_system(system: str, es: str, env: dict[str, str]) -> dict[str, Any]:
    source = f"s3://{BUCKET}/{PREFIX}"
    if system == "python -> es":
        command = [
            sys.executable,
            "-m",
            "benches.e2e.baseline",
            "--bucket",
            BUCKET,
            "--prefix",
            PREFIX,
            "--es",
            es,
            "--index-prefix",
            PY_INDEX,
            "--endpoint-url",
            env["AWS_ENDPOINT_URL"],
        ]
    else:
        to = "null" if system.endswith("null") else "es://" + es.split("://", 1)[1]
        command = [
            sys.executable,
            "-m",
            "recall_fast",
            "ingest",
            source,
            "--to",
            to,
            "--tenant",
            TENANT,
            "--no-progress",
        ]
    usage, _ = measured(command, env)
    return usage


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--gb", type=float, default=0.2, help="uncompressed corpus size (GB)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--es-url", help="use this Elasticsearch instead of starting a node")
    parser.add_argument("--s3-url", help="use this S3 endpoint instead of starting moto")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated subset")
    parser.add_argument("--out", type=Path, help="JSON report path")
    args = parser.parse_args(argv)
    if recall_fast.build_profile == "debug":
        print("e2e: recall_fast is a debug build; build with --release", file=sys.stderr)
        return 2
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]

    from tests.services.elasticsearch import ElasticsearchNode
    from tests.services.moto import MotoServer

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_path = args.out or Path("bench-results") / f"e2e-{stamp}.json"
    with tempfile.TemporaryDirectory(prefix="recall-e2e-") as tmp:
        moto = MotoServer.attach(args.s3_url) if args.s3_url else MotoServer()
        node = ElasticsearchNode.attach(args.es_url) if args.es_url else ElasticsearchNode()
        try:
            if moto.managed:
                moto.start()
            if node.managed:
                print("e2e: starting Elasticsearch (10-40 s)...", file=sys.stderr)
                node.start()
            env = dict(os.environ) | moto.env()  # endpoint, dummy credentials, region
            env["RECALL_FAST_S3__ENDPOINT_URL"] = env["AWS_ENDPOINT_URL"]
            env["RECALL_FAST_ELASTICSEARCH__INDEX_PATTERN"] = RF_INDEX
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), env.get("PYTHONPATH")]))
            os.environ.update(
                {
                    k: env[k]
                    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
                }
            )

            minutes = 5
            started = time.perf_counter()
            corpus = synth.generate(
                Path(tmp) / "corpus",
                seed=args.seed,
                tenants=(TENANT,),
                sensors=2,
                minutes=minutes,
                mb_per_minute=args.gb * 1000 / minutes,
            )
            objects = upload(Path(tmp) / "corpus", env["AWS_ENDPOINT_URL"])
            records, raw = corpus["records"], corpus["bytes_uncompressed"]
            print(
                f"e2e: corpus {raw / 1e9:.3f} GB uncompressed, {corpus['bytes_written'] / 1e6:.1f}"
                f" MB gzip, {records:,} records in {objects} objects "
                f"({time.perf_counter() - started:.1f} s to generate and upload)",
                file=sys.stderr,
            )
            es = node.url
            patterns = {"recall_fast -> es": "bench-rf-*", "python -> es": f"{PY_INDEX}-*"}
            runs: dict[str, list[dict[str, Any]]] = {s: [] for s in systems}
            for round_ in range(1, args.rounds + 1):
                for system in systems:
                    pattern = patterns.get(system)
                    if pattern:
                        delete_indices(es, pattern)
                    usage = run_system(system, es, env)
                    docs = count(es, pattern) if pattern else records
                    if docs != records:
                        raise RuntimeError(
                            f"{system}: {docs} documents indexed, {records} expected"
                        )
                    usage["documents"] = docs
                    runs[system].append(usage)
                    print(
                        f"e2e: round {round_} {system}: {usage['wall_s']:.1f} s, "
                        f"{docs:,} documents verified",
                        file=sys.stderr,
                    )
            for pattern in patterns.values():
                delete_indices(es, pattern)
        finally:
            node.close()
            moto.close()

    rows = [summarise(system, usages, raw) for system, usages in runs.items()]
    report = {
        "created": datetime.now(UTC).isoformat(),
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count()},
        "recall_fast": {"version": recall_fast.__version__, "build": recall_fast.build_profile},
        "corpus": {
            "seed": args.seed,
            "records": records,
            "bytes_uncompressed": raw,
            "bytes_gzip": corpus["bytes_written"],
            "objects": objects,
        },
        "rounds": args.rounds,
        "systems": rows,
        "raw": runs,
    }
    print(render(rows, records, raw))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out_path}")
    return 0


def summarise(system: str, usages: list[dict[str, Any]], raw: int) -> dict[str, Any]:
    walls = [u["wall_s"] for u in usages]
    cpus = [u["cpu_user_s"] + u["cpu_sys_s"] for u in usages]
    docs = usages[0]["documents"]
    return {
        "system": system,
        "docs_per_s_median": docs / statistics.median(walls),
        "docs_per_s_best": docs / min(walls),
        "mb_per_s_median": raw / 1e6 / statistics.median(walls),
        "mb_per_s_best": raw / 1e6 / min(walls),
        "cpu_s_per_gb_median": statistics.median(cpus) / (raw / 1e9),
        "peak_rss_mb": max(u["peak_rss_mb"] for u in usages),
    }


def render(rows: list[dict[str, Any]], records: int, raw: int) -> str:
    lines = [
        f"end to end, {raw / 1e9:.3f} GB uncompressed, {records:,} documents "
        "(median / best of rounds):",
        f"  {'system':20s} {'docs/s':>17s} {'MB/s':>15s} {'CPU s/GB':>9s} {'peak RSS MB':>12s}",
    ]
    for r in rows:
        lines.append(
            f"  {r['system']:20s} {r['docs_per_s_median']:8,.0f}/{r['docs_per_s_best']:<8,.0f} "
            f"{r['mb_per_s_median']:7.1f}/{r['mb_per_s_best']:<7.1f} "
            f"{r['cpu_s_per_gb_median']:9.1f} {r['peak_rss_mb']:12.0f}"
        )
    return "\n".join(lines)
