"""``recall-fast dlq replay``: send dead-lettered documents to Elasticsearch again.

Example::

    recall-fast dlq replay recall-dead-letter/ --to es://127.0.0.1:9200
    recall-fast dlq replay s3://bucket/dead-letter/ --to es+https://es:9200 --delete-replayed

Documents keep their index and id, so a replay after a mapping fix fills exactly the holes the
rejections left and never duplicates (with ``create``, a document that is already there answers
409 and counts as indexed). Documents rejected again go to the dead-letter store named by
``--dead-letter-target`` (a new file; the replayed file is kept unless ``--delete-replayed`` and
every document of it was indexed). Documents that were too large to encode carry no body and are
skipped. Prints a JSON summary; exit 0 when every replayed file settled, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from recall_fast.cli.options import add_config_flags, merge, overrides_from
from recall_fast.config import Config, TenantFeatures, from_env
from recall_fast.errors import ConfigError, RecallError
from recall_fast.metrics import Metrics, RateLimitedLogger, configure_logging
from recall_fast.orchestration.acks import settle_outcome
from recall_fast.orchestration.assembly import Observability, open_elasticsearch, open_s3
from recall_fast.orchestration.runtime import make_executor, run
from recall_fast.sinks.base import es_url
from recall_fast.sinks.dead_letter import (
    DeadLetterRecord,
    read_local_dead_letters,
    read_s3_dead_letters,
)
from recall_fast.sinks.elasticsearch.sink import ElasticsearchSink
from recall_fast.sources.s3 import S3Client, parse_s3_uri
from recall_fast.types import ObjectContext, ObjectRef, OutcomeKind

SECTIONS = ("elasticsearch", "s3", "dead_letter", "observability")


@dataclass(frozen=True, slots=True)
class _Body:
    """A bulk body rebuilt from dead-letter records (the sink's BulkChunk shape)."""

    body: bytes
    n_docs: int
    first_record: int = 0
    log_type: str = ""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``dlq`` subcommand with its ``replay`` action.

    Args:
        subparsers: The ``add_subparsers()`` object of the top-level parser.
    """
    dlq = subparsers.add_parser("dlq", help="work with the dead-letter store")
    actions = dlq.add_subparsers(dest="dlq_action", metavar="ACTION", required=True)
    parser = actions.add_parser(
        "replay",
        help="send dead-lettered documents again (ids unchanged)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", metavar="SOURCE", help="dead-letter directory or s3:// prefix")
    parser.add_argument(
        "--to", required=True, metavar="ES", help="Elasticsearch: es://host:port or https://..."
    )
    parser.add_argument(
        "--delete-replayed",
        action="store_true",
        help="delete a dead-letter file once every document of it is indexed",
    )
    add_config_flags(parser, SECTIONS, skip=frozenset({"elasticsearch.urls"}))
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run ``dlq replay``.

    Returns:
        0 when every file settled, 1 when some failed, 2 on configuration errors.
    """
    try:
        overrides = merge(
            overrides_from(args),
            {"elasticsearch": {"urls": ",".join(es_url(u) for u in args.to.split(","))}},
        )
        config = from_env(toml_path=args.config, overrides=overrides)
    except ConfigError as error:
        print(f"recall-fast dlq replay: {error}", file=sys.stderr)
        return 2
    configure_logging(config.observability.log_level)
    try:
        summary = run(replay(config, args.source, delete_replayed=args.delete_replayed))
    except (RecallError, ValueError) as error:
        print(f"recall-fast dlq replay: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0 if summary["ok"] else 1


def _bodies(records: Sequence[DeadLetterRecord], action: str, max_docs: int) -> list[_Body]:
    """Rebuild bulk bodies (``max_docs`` documents each) with the original index and id."""
    out: list[_Body] = []
    for start in range(0, len(records), max_docs):
        part = records[start : start + max_docs]
        lines: list[bytes] = []
        for r in part:
            lines.append(orjson.dumps({action: {"_index": r.index, "_id": r.doc_id}}))
            lines.append(r.document)
        out.append(_Body(b"\n".join(lines) + b"\n", len(part)))
    return out


async def _files(
    config: Config, source: str, client: S3Client | None
) -> AsyncGenerator[tuple[str, list[DeadLetterRecord]], None]:
    if client is not None:
        timeout_s = config.s3.request_timeout_s
        async for item in read_s3_dead_letters(client, source, timeout_s=timeout_s):
            yield item
        return
    async for item in read_local_dead_letters(Path(source)):
        yield item


async def _delete(name: str, client: S3Client | None, timeout_s: float) -> None:
    """Delete a replayed dead-letter file or object."""
    if client is None:
        await asyncio.get_running_loop().run_in_executor(None, Path(name).unlink, True)
        return
    bucket, key = parse_s3_uri(name)
    async with asyncio.timeout(timeout_s):
        await client.delete_object(Bucket=bucket, Key=key)


async def _replay_file(
    sink: ElasticsearchSink, config: Config, name: str, records: list[DeadLetterRecord]
) -> tuple[bool, dict[str, int]]:
    """Send one file's documents, tenant by tenant; returns (settled, counts)."""
    counts = {"documents": len(records), "indexed": 0, "already_indexed": 0, "dead_lettered": 0}
    sendable = [r for r in records if r.index and r.doc_id and r.document != b"null"]
    counts["skipped"] = len(records) - len(sendable)
    ok = True
    by_tenant: dict[str, list[DeadLetterRecord]] = {}
    for r in sendable:
        by_tenant.setdefault(r.tenant, []).append(r)
    es = config.elasticsearch
    for tenant, group_records in by_tenant.items():
        ctx = ObjectContext(ref=ObjectRef("", name, ""), tenant=tenant, features=TenantFeatures())
        async with asyncio.TaskGroup() as group:
            ctx.bind(group)
            for body in _bodies(group_records, es.action, es.max_chunk_docs):
                ctx.submitted(body.n_docs)
                await sink.write(body, ctx)
        outcome = settle_outcome(ctx)
        ok = ok and outcome.kind is OutcomeKind.DONE
        counts["indexed"] += ctx.counts.documents_indexed
        counts["already_indexed"] += ctx.counts.documents_already_indexed
        counts["dead_lettered"] += ctx.counts.documents_dead_lettered
    return ok, counts


async def replay(
    config: Config, source: str, *, delete_replayed: bool = False
) -> dict[str, object]:
    """Replay every dead-letter file under ``source``; return the summary.

    Raises:
        RecallIOError: The source does not exist.
        ValueError: A file holds lines that are not dead-letter records.
    """
    metrics = Metrics()
    log = RateLimitedLogger(
        logging.getLogger("recall_fast.dlq"),
        rate_per_s=config.observability.log_rate_per_s,
        burst=config.observability.log_burst,
        metrics=metrics,
    )
    totals = {"files": 0, "documents": 0, "indexed": 0, "already_indexed": 0,
              "dead_lettered": 0, "skipped": 0, "deleted_files": 0}  # fmt: skip
    failed: list[str] = []
    executor = make_executor(2)
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(executor.shutdown, wait=True)
        sink = await open_elasticsearch(stack, config, executor, Observability(metrics, log))
        client = await open_s3(stack, config) if source.startswith("s3://") else None
        files = [item async for item in _files(config, source, client)]
        for name, records in files:
            ok, counts = await _replay_file(sink, config, name, records)
            totals["files"] += 1
            for key, value in counts.items():
                totals[key] += value
            if not ok:
                failed.append(name)
            elif delete_replayed and counts["dead_lettered"] == 0 and counts["skipped"] == 0:
                await _delete(name, client, config.s3.request_timeout_s)
                totals["deleted_files"] += 1
    return {"ok": not failed, **totals, "failed_files": failed}
