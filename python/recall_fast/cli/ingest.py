"""``recall-fast ingest``: files, directories, globs or S3 prefixes into a sink, once.

Examples::

    recall-fast ingest recall-input/                      # Parquet under ./recall-data/
    recall-fast ingest 'logs/**/*.log.gz' --to ndjson:-   # documents to stdout
    recall-fast ingest s3://bucket/acme/ --to es://127.0.0.1:9200

The tenant of each object is the first path segment of its key, relative to the directory
given (``DIR/acme/sensor/conn/...`` is tenant ``acme``); ``--tenant`` sets one for every object
instead. A progress line is drawn on stderr when it is a terminal; a JSON summary (objects,
records, documents, quarantined lines, failures, throughput) is printed on stdout at the end.
Exit status: 0 when every object was ingested, 1 when some failed (see "failures"), 2 on a
usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable
from typing import TextIO

import orjson

from recall_fast.cli.options import add_config_flags, leaf_errors, merge, overrides_from
from recall_fast.config import Config, from_env
from recall_fast.errors import ConfigError, RecallError
from recall_fast.metrics import Metrics, RateLimitedLogger, configure_logging
from recall_fast.orchestration.acks import RunSummary
from recall_fast.orchestration.assembly import (
    ObjectProcessor,
    Observability,
    build_pipeline,
    open_s3,
)
from recall_fast.orchestration.runtime import make_executor, run
from recall_fast.sinks.base import DEFAULT_PARQUET_DIR, SinkSpec, parse_sink
from recall_fast.sources.events import validate_tenant
from recall_fast.sources.local import LocalReader, LocalSource
from recall_fast.sources.s3 import S3PrefixSource, S3Reader
from recall_fast.types import Source

SECTIONS = ("tenants", "decode", "elasticsearch", "s3", "dead_letter", "observability")
_PROGRESS_INTERVAL_S = 0.25


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``ingest`` subcommand.

    Args:
        subparsers: The ``add_subparsers()`` object of the top-level parser.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "ingest",
        help="ingest files, directories, globs or S3 prefixes once",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="file, directory, glob (quote it) or s3://bucket/prefix; .gz and .zst are detected",
    )
    parser.add_argument(
        "--to",
        default=f"parquet:{DEFAULT_PARQUET_DIR}",
        metavar="DEST",
        help="es://host:port | parquet:DIR | ndjson:PATH | ndjson:- | null "
        f"(default: parquet:{DEFAULT_PARQUET_DIR})",
    )
    parser.add_argument(
        "--tenant", default=None, help="use this tenant for every object instead of the key's"
    )
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="draw a progress line on stderr (default: when stderr is a terminal)",
    )
    add_config_flags(parser, SECTIONS, skip=frozenset({"elasticsearch.urls"}))
    parser.set_defaults(func=main)


def load_config(args: argparse.Namespace, spec: SinkSpec) -> Config:
    """Build the configuration from TOML, environment and flags (``--to`` sets the ES URLs).

    Raises:
        ConfigError: Invalid options.
    """
    overrides = overrides_from(args)
    if spec.kind == "elasticsearch":
        merge(overrides, {"elasticsearch": {"urls": ",".join(spec.urls)}})
    return from_env(toml_path=args.config, overrides=overrides)


def main(args: argparse.Namespace) -> int:
    """Run the subcommand.

    Returns:
        0 when every object was ingested, 1 when some failed, 2 on configuration errors.
    """
    try:
        spec = parse_sink(args.to)
        config = load_config(args, spec)
        if args.tenant is not None and (reason := validate_tenant(args.tenant)) is not None:
            raise ConfigError(f"--tenant: {reason}")
    except ConfigError as error:
        print(f"recall-fast ingest: {error}", file=sys.stderr)
        return 2
    configure_logging(config.observability.log_level)
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    try:
        summary = run(ingest(config, list(args.sources), spec, args.tenant, progress=progress))
    except (RecallError, ExceptionGroup) as error:
        # A source that fails as a whole (S3 listing refused, bucket missing) ends the run.
        errors = leaf_errors(error, RecallError)
        if not errors:
            raise
        for leaf in errors:
            print(f"recall-fast ingest: {leaf}", file=sys.stderr)
        return 2
    # With `--to ndjson:-` the documents own stdout; the summary then goes to stderr.
    out = sys.stderr if spec.kind == "ndjson" and spec.path is None else sys.stdout
    out.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
    out.flush()
    return 0 if summary.get("ok") else 1


async def ingest(
    config: Config,
    sources: list[str],
    spec: SinkSpec,
    tenant: str | None = None,
    *,
    progress: bool = False,
    metrics: Metrics | None = None,
) -> dict[str, object]:
    """Ingest ``sources`` into the destination ``spec`` and return the JSON summary.

    Args:
        config: The configuration.
        sources: Local paths/globs and s3:// prefixes.
        spec: The destination.
        tenant: Fixed tenant for every object (validated), or None for the key's.
        progress: Draw a progress line on stderr.
        metrics: Registry to update (a new one when None).

    Returns:
        The summary (see :meth:`RunSummary.as_dict`).

    Raises:
        RecallIOError: A local path matches nothing.
        ConfigError: The destination cannot be set up.
    """
    metrics = metrics or Metrics()
    obs = Observability(
        metrics,
        RateLimitedLogger(
            logging.getLogger("recall_fast.ingest"),
            rate_per_s=config.observability.log_rate_per_s,
            burst=config.observability.log_burst,
            metrics=metrics,
        ),
    )
    summary = RunSummary()
    local = [s for s in sources if not s.startswith("s3://")]
    remote = [s for s in sources if s.startswith("s3://")]
    executor = make_executor(config.decode.effective_threads())
    chunk = config.decode.read_chunk_bytes
    in_flight = config.decode.max_objects_in_flight
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(executor.shutdown, wait=True)
        # Sources and sinks are built before any task runs, so a configuration error surfaces
        # as itself, not wrapped in a task group's exception group.
        runs: list[tuple[ObjectProcessor, Source]] = []
        total: int | None = None
        if local:
            # Walking directories is blocking file-system work: done in a thread.
            local_source = await asyncio.to_thread(
                LocalSource, local, LocalReader(chunk_bytes=chunk, executor=executor), summary
            )
            total = len(local_source)
            pipeline = await build_pipeline(
                stack,
                spec=spec,
                config=config,
                reader=local_source.reader,
                executor=executor,
                obs=obs,
                tenant_override=tenant,
            )
            runs.append((pipeline, local_source))
        if remote:
            s3 = await open_s3(stack, config)
            reader = S3Reader(s3, chunk_bytes=chunk, timeout_s=config.s3.request_timeout_s)
            remote_source = S3PrefixSource(s3, remote, reader, summary, config.s3.request_timeout_s)
            pipeline = await build_pipeline(
                stack,
                spec=spec,
                config=config,
                reader=reader,
                executor=executor,
                obs=obs,
                tenant_override=tenant,
            )
            runs.append((pipeline, remote_source))
        async with asyncio.TaskGroup() as group:
            drawer = (
                group.create_task(_draw_progress(summary, total, sys.stderr)) if progress else None
            )
            try:
                for pipeline, source in runs:
                    await pipeline.run(source, max_in_flight=in_flight)
            finally:
                if drawer is not None:
                    drawer.cancel()
    destination = str(spec.path) if spec.path is not None else ",".join(spec.urls) or spec.kind
    return summary.as_dict(sink=spec.kind, destination=destination)


def _progress_line(summary: RunSummary, total: int | None, elapsed: float) -> str:
    t = summary.totals
    done = summary.objects_done
    objects = f"{done}/{total}" if total is not None else str(done)
    rate = t.bytes_in / max(elapsed, 1e-9) / 1e6
    failed = done - summary.objects["done"]
    tail = f"  {failed} failed" if failed else ""
    return (
        f"\r{objects} objects  {t.bytes_in / 1e6:,.1f} MB  {rate:,.1f} MB/s  "
        f"{t.records:,} records{tail}\x1b[K"
    )


async def _draw_progress(
    summary: RunSummary,
    total: int | None,
    out: TextIO,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Redraw the progress line until cancelled; end it with a newline."""
    started = clock()
    try:
        while True:
            out.write(_progress_line(summary, total, clock() - started))
            out.flush()
            await asyncio.sleep(_PROGRESS_INTERVAL_S)
    except asyncio.CancelledError:
        out.write(_progress_line(summary, total, clock() - started) + "\n")
        out.flush()
        raise
