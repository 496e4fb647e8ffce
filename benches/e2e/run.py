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
   input, median CPU seconds per GB, peak RSS, the node's CPU seconds per GB (``_nodes`` stats
   before and after the run, final refresh included) and "docs/s if alone": documents per
   second if client and node had every core of the machine to themselves, i.e. documents /
   ((client + node CPU seconds) / cores). On a shared machine the wall-clock rates measure the
   neighbours as much as the systems; the CPU columns do not. Table on stdout, JSON in ``--out``
   (default ``bench-results/e2e-<timestamp>.json``).

Mappings, so the node's work is comparable: recall_fast's indices get recall_fast's index
templates (``--rf-templates install``, what a deployment installs first; without them every
string is mapped ``text`` + ``keyword`` and every IP as text, which doubled the node's CPU per
document, see ``benches.e2e.escost``), and the baseline's indices a template mapping strings
as ``keyword`` (``--baseline-mapping keyword``; ``dynamic`` gives it Elasticsearch's default).
The documents still differ: recall_fast's carry ECS fields (source/destination/network/event),
``network.community_id``, the tenant and the source object besides the Zeek fields (about 1.6x
the bytes); the baseline sends the Zeek fields, ``@timestamp`` and ``event.dataset``.

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

from benches.e2e.escost import plain_template

import recall_fast
from recall_fast.bench import synth

BUCKET = "recall-bench"
PREFIX = ""
TENANT = "acme"
RF_INDEX = "bench-rf-<tenant>-zeek.<logtype>"
RF_TEMPLATE_PREFIX = "bench-rf"
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


def install_rf_templates(es: str) -> list[str]:
    """Install recall_fast's index templates for ``RF_INDEX`` (what a deployment does first).

    Without them the node maps every string dynamically as ``text`` plus a ``keyword``
    sub-field and every IP as text: ``benches.e2e.escost`` measured that at about twice the
    node CPU per document of the templates' keyword/ip/date mapping. Replicas 0: one node.

    Returns:
        The names installed (removed again by :func:`delete_templates`).
    """
    templates = json.loads(
        recall_fast._native.index_templates(
            index_pattern=RF_INDEX, replicas=0, name_prefix=RF_TEMPLATE_PREFIX
        )
    )
    names = []
    for name, body in templates["component_templates"].items():
        _http("PUT", f"{es}/_component_template/{name}", json.dumps(body).encode())
        names.append(f"_component_template/{name}")
    for name, body in templates["index_templates"].items():
        _http("PUT", f"{es}/_index_template/{name}", json.dumps(body).encode())
        names.append(f"_index_template/{name}")
    return names


def install_py_template(es: str, mapping: str) -> list[str]:
    """The baseline's index template: replicas 0 and, with ``mapping="keyword"``, strings as
    ``keyword`` only (what a user who writes one dynamic template gets; the default dynamic
    mapping indexes each string twice, as ``text`` and ``keyword``).

    Returns:
        The names installed.
    """
    body = plain_template(PY_INDEX, keyword=mapping == "keyword")
    _http("PUT", f"{es}/_index_template/{PY_INDEX}", json.dumps(body).encode())
    return [f"_index_template/{PY_INDEX}"]


def delete_templates(es: str, names: list[str]) -> None:
    """Delete templates by ``kind/name``, index templates before the components they use."""
    for name in sorted(names, key=lambda n: n.startswith("_component")):
        _http("DELETE", f"{es}/{name}")


def node_cpu_s(es: str) -> float:
    """CPU seconds the Elasticsearch node's process has used so far (all its threads)."""
    stats = _http("GET", f"{es}/_nodes/_local/stats/process?filter_path=nodes.*.process.cpu")
    (node,) = stats["nodes"].values()
    return float(node["process"]["cpu"]["total_in_millis"]) / 1000


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


def run_system(system: str, es: str, env: dict[str, str], prefix: str = PREFIX) -> dict[str, Any]:
    source = f"s3://{BUCKET}/{prefix}"
    if system == "python -> es":
        command = [
            sys.executable,
            "-m",
            "benches.e2e.baseline",
            "--bucket",
            BUCKET,
            "--prefix",
            prefix,
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
    parser.add_argument(
        "--no-warmup",
        action="store_true",
        help="skip the unmeasured warm-up run of each Elasticsearch system (on the conn logs "
        "of one sensor) that lets the node's JIT compile its indexing path first; without it "
        "the first system measured pays the node's warm-up",
    )
    parser.add_argument(
        "--rf-templates",
        choices=("install", "none"),
        default="install",
        help="install recall_fast's index templates for its indices (default, as deployed) or "
        "leave them to dynamic mapping",
    )
    parser.add_argument(
        "--baseline-mapping",
        choices=("keyword", "dynamic"),
        default="keyword",
        help="baseline indices: strings as keyword only (default: the same mapping cost as "
        "recall_fast's templates) or Elasticsearch's dynamic text+keyword",
    )
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
            templates = install_py_template(es, args.baseline_mapping)
            if args.rf_templates == "install":
                templates += install_rf_templates(es)
            if not args.no_warmup:
                for system in systems:
                    pattern = patterns.get(system)
                    if pattern:
                        run_system(system, es, env, prefix=f"{PREFIX}{TENANT}/sensor-01/conn/")
                        delete_indices(es, pattern)
                print("e2e: node warmed up", file=sys.stderr)
            for round_ in range(1, args.rounds + 1):
                for system in systems:
                    pattern = patterns.get(system)
                    if pattern:
                        delete_indices(es, pattern)
                    node_before = node_cpu_s(es)
                    usage = run_system(system, es, env)
                    docs = count(es, pattern) if pattern else records
                    # Includes the final refresh: the node's whole bill for this run.
                    usage["node_cpu_s"] = node_cpu_s(es) - node_before if pattern else 0.0
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
            delete_templates(es, templates)
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
        "mapping": {"recall_fast": args.rf_templates, "baseline": args.baseline_mapping},
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
    nodes = [u.get("node_cpu_s", 0.0) for u in usages]
    docs = usages[0]["documents"]
    return {
        "system": system,
        "docs_per_s_median": docs / statistics.median(walls),
        "docs_per_s_best": docs / min(walls),
        "mb_per_s_median": raw / 1e6 / statistics.median(walls),
        "mb_per_s_best": raw / 1e6 / min(walls),
        "cpu_s_per_gb_median": statistics.median(cpus) / (raw / 1e9),
        "node_cpu_s_per_gb_median": statistics.median(nodes) / (raw / 1e9),
        # Client and node share the machine: docs per second if the two used every core of it
        # and nothing else ran (load-independent; the wall-clock rates above are not).
        "docs_per_s_2core_bound": docs
        / (
            statistics.median(c + n for c, n in zip(cpus, nodes, strict=True))
            / (os.cpu_count() or 1)
        ),
        "peak_rss_mb": max(u["peak_rss_mb"] for u in usages),
    }


def render(rows: list[dict[str, Any]], records: int, raw: int) -> str:
    lines = [
        f"end to end, {raw / 1e9:.3f} GB uncompressed, {records:,} documents "
        "(median / best of rounds):",
        f"  {'system':20s} {'docs/s':>17s} {'MB/s':>15s} {'CPU s/GB':>9s} {'peak RSS MB':>12s}"
        f" {'node CPU s/GB':>13s} {'docs/s if alone':>15s}",
    ]
    for r in rows:
        lines.append(
            f"  {r['system']:20s} {r['docs_per_s_median']:8,.0f}/{r['docs_per_s_best']:<8,.0f} "
            f"{r['mb_per_s_median']:7.1f}/{r['mb_per_s_best']:<7.1f} "
            f"{r['cpu_s_per_gb_median']:9.1f} {r['peak_rss_mb']:12.0f}"
            f" {r['node_cpu_s_per_gb_median']:13.1f} {r['docs_per_s_2core_bound']:15,.0f}"
        )
    return "\n".join(lines)
