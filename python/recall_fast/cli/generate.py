"""``recall-fast generate``: write a deterministic corpus of realistic Zeek logs.

Examples::

    recall-fast generate                  # ./recall-input: 2 tenants, 2 sensors, 5 minutes
    recall-fast generate --out /data/corpus --minutes 60 --mb-per-minute 2000 --workers 2
    recall-fast generate --format json --compression zstd --log-types conn,dns,weird

Files are laid out like the sensors' S3 bucket, one per tenant, sensor, log type and minute::

    <tenant>/<sensor>/<logtype>/<YYYY>/<MM>/<DD>/<logtype>.<HH:MM>-<HH:MM>.log.gz

(``.json`` for JSON, ``.zst`` for zstd, no suffix when plain). The same flags and seed always
give the same bytes. A JSON summary (files, records, bytes before and after compression, per
log type) is printed on stdout. Exit status: 0 on success, 2 on a usage or configuration error,
1 when writing failed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import orjson

from recall_fast.bench.synth import ALL_LOG_TYPES, DEFAULT_LOG_TYPES, generate
from recall_fast.errors import ConfigError, RecallIOError

DEFAULT_OUT = Path("recall-input")
DEFAULT_START = "2024-05-01T12:00:00Z"


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _records(value: str) -> int | dict[str, int]:
    """``1000`` (conn per sensor-minute) or ``conn=1000,dns=400``."""
    try:
        if "=" not in value:
            return int(value)
        counts: dict[str, int] = {}
        for item in _csv(value):
            name, _, count = item.partition("=")
            counts[name.strip()] = int(count)
        return counts
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{value!r}: expected N or TYPE=N,TYPE=N (e.g. conn=1000,dns=400)"
        ) from exc


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``generate`` subcommand.

    Args:
        subparsers: The ``add_subparsers()`` object of the top-level parser.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "generate",
        help="write seeded, realistic Zeek logs in the S3 key layout",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output root (default: {DEFAULT_OUT})"
    )
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default: 1)")
    parser.add_argument(
        "--tenants", type=_csv, default=["acme", "globex"], help="comma-separated tenant names"
    )
    parser.add_argument("--sensors", type=int, default=2, help="sensors per tenant (default: 2)")
    parser.add_argument("--minutes", type=int, default=5, help="minutes per sensor (default: 5)")
    parser.add_argument(
        "--log-types",
        type=_csv,
        default=list(DEFAULT_LOG_TYPES),
        help=f"comma-separated, from {','.join(ALL_LOG_TYPES)} "
        f"(default: {','.join(DEFAULT_LOG_TYPES)})",
    )
    parser.add_argument("--format", choices=("tsv", "json"), default="tsv")
    parser.add_argument(
        "--json-time",
        choices=("epoch", "iso8601"),
        default="epoch",
        help="JSON ts as epoch seconds (Zeek) or ISO strings with _path/_write_ts "
        "(json-streaming-logs)",
    )
    parser.add_argument("--compression", choices=("gzip", "zstd", "none"), default="gzip")
    parser.add_argument(
        "--compression-level", type=int, default=None, help="gzip 0-9 (6) or zstd 1-22 (3)"
    )
    parser.add_argument(
        "--start",
        default=DEFAULT_START,
        help=f"first minute, ISO 8601 or epoch seconds, UTC (default: {DEFAULT_START})",
    )
    volume = parser.add_mutually_exclusive_group()
    volume.add_argument(
        "--records-per-minute",
        type=_records,
        default=None,
        metavar="N|TYPE=N,...",
        help="records per sensor-minute: conn count (others by ratio) or per type",
    )
    volume.add_argument(
        "--mb-per-minute",
        type=float,
        default=None,
        help="uncompressed MB per tenant-minute over its sensors and log types",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="threads generating in parallel (default: 1)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate the corpus and print the summary.

    Args:
        args: Parsed arguments of the ``generate`` subcommand.

    Returns:
        0 on success, 2 on a configuration error, 1 when writing failed.
    """
    start: str | int = int(args.start) if str(args.start).isdigit() else args.start
    began = time.perf_counter()
    try:
        summary = generate(
            args.out,
            seed=args.seed,
            tenants=args.tenants,
            sensors=args.sensors,
            minutes=args.minutes,
            log_types=args.log_types,
            format=args.format,
            json_time=args.json_time,
            compression=args.compression,
            compression_level=args.compression_level,
            start=start,
            records_per_minute=args.records_per_minute,
            mb_per_minute=args.mb_per_minute,
            workers=args.workers,
        )
    except ConfigError as exc:
        print(f"recall-fast generate: {exc}", file=sys.stderr)
        return 2
    except RecallIOError as exc:
        print(f"recall-fast generate: {exc}", file=sys.stderr)
        return 1
    elapsed_s = time.perf_counter() - began
    report = {
        "out": str(args.out),
        "seed": args.seed,
        **summary,
        "elapsed_s": round(elapsed_s, 3),
        "mb_per_s_uncompressed": round(summary["bytes_uncompressed"] / 1e6 / elapsed_s, 1)
        if elapsed_s > 0
        else None,
    }
    sys.stdout.buffer.write(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()
    return 0
