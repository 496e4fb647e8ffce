"""What the Elasticsearch node pays per document shape, with the client taken out of the picture.

``python -m benches.e2e.escost --es URL [--mb 20] [--rounds 2] [--variants a,b,...]``

The end-to-end run mixes client and node work on the same two cores; this tool separates the
node's part. Every variant's ``_bulk`` bodies are built in memory *before* the clock starts
(recall_fast's from ``ZeekProcessor``; the baseline's exactly as ``async_streaming_bulk``
serialises ``benches.e2e.baseline``'s actions), then sent to the node with a fixed number of
requests in flight. Measured per variant: wall time, the node's CPU seconds (``_nodes/_local/
stats/process``, before the first request and after the final refresh) and the documents
counted afterwards. One variable changes per variant, so the table reads as "what does X cost
the node":

- ``py``: the baseline's documents, dynamic mapping (strings become text + keyword);
- ``py-kw``: the same documents, strings mapped as keyword only (what our templates do);
- ``rf``: recall_fast's ECS documents, dynamic mapping (the e2e run before templates);
- ``rf-tpl``: the same documents with recall_fast's index templates (the deployment setup);
- ``rf-tpl-index`` / ``rf-tpl-gzip`` / ``rf-tpl-norefresh``: one sink setting changed
  (``index`` action, gzip request bodies, ``refresh_interval: -1``);
- ``rf-tpl-lz4``: templates with the default codec instead of ``best_compression``;
- ``rf-tpl-seqid``: the ``rf-tpl`` documents with each id rewritten as a per-object prefix plus
  the record number in fixed-width hex (same uniqueness and determinism, but the ids of one
  object sort together), to measure what the hash ids cost the ``create`` existence lookups;
- ``rf-tpl-lean``: the ``rf-tpl`` documents without the Zeek fields that an ECS field repeats
  exactly (``zeek.<log>.ts`` = ``@timestamp``, ``zeek.<log>.id.*`` = ``source``/``destination``
  ``ip``/``port``, and for conn ``proto``, ``service``, ``duration``, byte and packet counts):
  the same information in fewer indexed fields.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import gzip
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from recall_fast.bench import synth

TENANT = "acme"
RF_PATTERN = "escost-rf-<tenant>-zeek.<logtype>"
VARIANTS = (
    "py",
    "py-kw",
    "rf",
    "rf-tpl",
    "rf-tpl-index",
    "rf-tpl-gzip",
    "rf-tpl-norefresh",
    "rf-tpl-lz4",
    "rf-tpl-seqid",
    "rf-tpl-lean",
)

#: Zeek conn fields that an ECS field of the same document repeats (``rf-tpl-lean``).
_CONN_REPEATED = (
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "orig_pkts",
    "resp_pkts",
)


def _http(method: str, url: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read() or b"null")


def node_cpu_s(es: str) -> float:
    """CPU seconds the node's process has used (all threads)."""
    stats = _http("GET", f"{es}/_nodes/_local/stats/process?filter_path=nodes.*.process.cpu")
    (node,) = stats["nodes"].values()
    return float(node["process"]["cpu"]["total_in_millis"]) / 1000


def _py_default(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise TypeError(type(value))


def py_bodies(files: list[Path], prefix: str) -> list[tuple[bytes, int]]:
    """The baseline's bodies: ``actions_for_helpers`` serialised like the helpers do."""
    from recall_fast.bench.baseline import actions_for_helpers, read_tsv_pyarrow

    out: list[tuple[bytes, int]] = []
    for n, path in enumerate(files):
        text = gzip.decompress(path.read_bytes())
        log_type = text.split(b"#path\t", 1)[1].split(b"\n", 1)[0].decode()
        table = read_tsv_pyarrow(text)
        lines: list[bytes] = []
        for action in actions_for_helpers(
            table, index=f"{prefix}-{TENANT}-zeek.{log_type}", id_prefix=str(n)
        ):
            meta = {"_index": action["_index"], "_id": action["_id"]}
            lines.append(orjson.dumps({action["_op_type"]: meta}))
            lines.append(orjson.dumps(action["_source"], default=_py_default))
            if len(lines) >= 10_000:
                out.append((b"\n".join(lines) + b"\n", len(lines) // 2))
                lines = []
        if lines:
            out.append((b"\n".join(lines) + b"\n", len(lines) // 2))
    return out


def _sequential_ids(body: bytes, docs: int, prefix: str, first: int) -> bytes:
    """Rewrite each action line's ``_id`` to ``prefix`` + record number (``rf-tpl-seqid``)."""
    lines = body.split(b"\n")
    for i in range(docs):
        ((op, meta),) = orjson.loads(lines[2 * i]).items()
        meta["_id"] = f"{prefix}{first + i:010x}"
        lines[2 * i] = orjson.dumps({op: meta})
    return b"\n".join(lines)


def _lean(body: bytes, docs: int) -> bytes:
    """Drop the Zeek fields an ECS field repeats (``rf-tpl-lean``)."""
    lines = body.split(b"\n")
    for i in range(docs):
        doc = orjson.loads(lines[2 * i + 1])
        for log, fields in doc.get("zeek", {}).items():
            fields.pop("ts", None)
            if "source" in doc and "destination" in doc:
                fields.pop("id", None)
            if log == "conn":
                for name in _CONN_REPEATED:
                    fields.pop(name, None)
        lines[2 * i + 1] = orjson.dumps(doc)
    return b"\n".join(lines)


def rf_bodies(
    files: list[Path],
    root: Path,
    pattern: str,
    action: str,
    *,
    seqid: bool = False,
    lean: bool = False,
) -> list[tuple[bytes, int]]:
    """recall_fast's bodies for the same files (the processor the pipeline runs)."""
    import hashlib

    from recall_fast import _native

    out: list[tuple[bytes, int]] = []
    for path in files:
        key = path.relative_to(root).as_posix()
        prefix = hashlib.sha1(key.encode()).hexdigest()[:12]
        record = 0
        proc = _native.ZeekProcessor(
            TENANT,
            "recall-bench",
            key,
            "etag",
            max_chunk_bytes=5 << 20,
            max_chunk_docs=5000,
            action=action,  # type: ignore[arg-type]
            index_pattern=pattern,
        )
        for chunk in [*proc.feed(path.read_bytes()), *proc.finish()]:
            body, docs = bytes(chunk.body), int(chunk.n_docs)
            if seqid:
                body = _sequential_ids(body, docs, prefix, record)
            if lean:
                body = _lean(body, docs)
            record += docs
            out.append((body, docs))
    return out


def install_rf_templates(es: str, pattern: str, name: str, *, codec: str | None) -> None:
    """Install recall_fast's templates for ``pattern`` (replicas 0: one node)."""
    from recall_fast import _native

    templates = json.loads(
        _native.index_templates(index_pattern=pattern, replicas=0, name_prefix=name)
    )
    for tname, body in templates["component_templates"].items():
        body = copy.deepcopy(body)
        settings = body["template"].get("settings", {}).get("index")
        if settings is not None and codec is not None:
            settings["codec"] = codec
        _http("PUT", f"{es}/_component_template/{tname}", body)
    for tname, body in templates["index_templates"].items():
        _http("PUT", f"{es}/_index_template/{tname}", body)


def plain_template(prefix: str, *, keyword: bool, refresh: str | None = None) -> dict[str, Any]:
    """An index template for ``prefix-*``: replicas 0, optionally strings as keyword only (what
    a user who writes one dynamic template gets; the default dynamic mapping indexes each
    string twice, as ``text`` and ``keyword``)."""
    template: dict[str, Any] = {"settings": {"number_of_replicas": 0}}
    if refresh is not None:
        template["settings"]["refresh_interval"] = refresh
    if keyword:
        template["mappings"] = {
            "dynamic_templates": [
                {
                    "strings": {
                        "match_mapping_type": "string",
                        "mapping": {"type": "keyword", "ignore_above": 8191},
                    }
                }
            ]
        }
    return {"index_patterns": [f"{prefix}-*"], "priority": 500, "template": template}


def install_plain_template(es: str, prefix: str, *, keyword: bool, refresh: str | None) -> None:
    """Install :func:`plain_template` for ``prefix-*``."""
    _http(
        "PUT",
        f"{es}/_index_template/{prefix}",
        plain_template(prefix, keyword=keyword, refresh=refresh),
    )


def delete_prefix(es: str, prefix: str) -> None:
    for row in _http("GET", f"{es}/_cat/indices/{prefix}-*?format=json&expand_wildcards=all"):
        _http("DELETE", f"{es}/{row['index']}")
    for kind in ("_index_template", "_component_template"):
        listing = _http("GET", f"{es}/{kind}")
        key = "index_templates" if kind == "_index_template" else "component_templates"
        for t in listing.get(key, []):
            if t["name"].startswith(prefix):
                _http("DELETE", f"{es}/{kind}/{t['name']}")


async def send(es: str, bodies: list[tuple[bytes, int]], in_flight: int, compress: bool) -> int:
    """Send every body with ``in_flight`` requests at once; return item errors."""
    from elasticsearch import AsyncElasticsearch

    client = AsyncElasticsearch(
        es, request_timeout=300, max_retries=0, http_compress=compress, connections_per_node=16
    )
    queue: asyncio.Queue[tuple[bytes, int]] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while not queue.empty():
            body, _ = queue.get_nowait()
            response = await client.perform_request(
                "PUT",
                "/_bulk",
                params={"filter_path": "errors,items.*.error.type"},
                headers={"accept": "application/json", "content-type": "application/x-ndjson"},
                body=body,
            )
            if response.body.get("errors"):
                errors += sum(1 for i in response.body["items"] if next(iter(i.values())))

    try:
        await asyncio.gather(*(worker() for _ in range(in_flight)))
    finally:
        await client.close()
    return errors


def run_variant(
    es: str, variant: str, bodies: list[tuple[bytes, int]], in_flight: int
) -> dict[str, Any]:
    prefix = "escost-py" if variant.startswith("py") else "escost-rf"
    delete_prefix(es, prefix)
    if variant.startswith("py"):
        install_plain_template(es, prefix, keyword=variant == "py-kw", refresh=None)
    elif variant == "rf":
        install_plain_template(es, prefix, keyword=False, refresh=None)
    else:
        install_rf_templates(
            es, RF_PATTERN, prefix, codec="default" if variant == "rf-tpl-lz4" else None
        )
        if variant == "rf-tpl-norefresh":
            _http(
                "PUT",
                f"{es}/_index_template/{prefix}-zz-norefresh",
                {
                    "index_patterns": [f"{prefix}-*"],
                    "priority": 1000,
                    "composed_of": [f"{prefix}-zeek-settings", f"{prefix}-zeek-ecs"],
                    "template": {"settings": {"refresh_interval": "-1"}},
                },
            )
    docs = sum(n for _, n in bodies)
    size = sum(len(b) for b, _ in bodies)
    cpu0 = node_cpu_s(es)
    client0 = time.process_time()
    t0 = time.perf_counter()
    errors = asyncio.run(send(es, bodies, in_flight, compress=variant.endswith("gzip")))
    _http("POST", f"{es}/{prefix}-*/_refresh")
    wall = time.perf_counter() - t0
    client_cpu = time.process_time() - client0
    node_cpu = node_cpu_s(es) - cpu0
    counted = int(_http("GET", f"{es}/{prefix}-*/_count")["count"])
    stats = _http("GET", f"{es}/{prefix}-*/_stats/store?filter_path=_all.primaries.store")
    store = stats["_all"]["primaries"]["store"]["size_in_bytes"]
    delete_prefix(es, prefix)
    if counted != docs or errors:
        raise RuntimeError(f"{variant}: {counted} counted, {docs} sent, {errors} item errors")
    return {
        "variant": variant,
        "docs": docs,
        "body_bytes": size,
        "wall_s": wall,
        "node_cpu_s": node_cpu,
        "client_cpu_s": client_cpu,
        "store_bytes": store,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--es", required=True, help="Elasticsearch URL")
    parser.add_argument("--mb", type=float, default=20, help="uncompressed corpus size (MB)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--in-flight", type=int, default=4)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        parser.error(f"unknown variants {sorted(unknown)}")
    with tempfile.TemporaryDirectory(prefix="escost-") as tmp:
        root = Path(tmp)
        synth.generate(
            root, seed=7, tenants=(TENANT,), sensors=2, minutes=5, mb_per_minute=args.mb / 5
        )
        files = sorted(p for p in root.rglob("*") if p.is_file())
        built: dict[str, list[tuple[bytes, int]]] = {}
        for v in variants:
            if v.startswith("py"):
                built[v] = built.get("py") or py_bodies(files, "escost-py")
            else:
                built[v] = rf_bodies(
                    files,
                    root,
                    RF_PATTERN,
                    "index" if v == "rf-tpl-index" else "create",
                    seqid=v == "rf-tpl-seqid",
                    lean=v == "rf-tpl-lean",
                )
    results: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for round_ in range(args.rounds):
        for v in variants:
            r = run_variant(args.es, v, built[v], args.in_flight)
            results[v].append(r)
            print(
                f"round {round_ + 1} {v}: {r['wall_s']:.1f} s, node {r['node_cpu_s']:.1f} CPU s",
                file=sys.stderr,
            )
    print(
        f"{'variant':18s} {'docs':>8s} {'B/doc':>6s} {'docs/s best':>11s} "
        f"{'node CPU ms/1k docs':>19s} {'store B/doc':>11s}"
    )
    for v, rs in results.items():
        docs = rs[0]["docs"]
        best = min(r["wall_s"] for r in rs)
        node = statistics.median(r["node_cpu_s"] for r in rs)
        print(
            f"{v:18s} {docs:8d} {rs[0]['body_bytes'] / docs:6.0f} {docs / best:11,.0f} "
            f"{node * 1e6 / docs:19.0f} {rs[0]['store_bytes'] / docs:11.0f}"
        )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
