"""``recall-fast bench``: measure recall_fast against plain Python on this machine.

Examples::

    recall-fast bench                                   # micro benchmarks, ~30 MB corpus
    recall-fast bench --mb 100 --rounds 5 --target-gb-per-min 2
    recall-fast bench --es http://127.0.0.1:9200        # plus a short end-to-end run
    recall-fast bench --es http://es:9200 --s3 s3://bucket/acme/   # objects already in S3

The micro benchmarks time, on generated Zeek logs and in this process, recall_fast's decoder,
normaliser + encoder and fused processor against pyarrow/orjson doing the same work the way a
careful Python user would (best of ``--rounds``). With ``--es`` a generated corpus (or the S3
prefix given) is ingested with ``recall-fast ingest`` into ``recall-bench-*`` indices, which are
deleted afterwards. Prints a table; writes JSON (``--json``) and a PNG chart (``--chart``, needs
the ``bench`` extra: ``pip install 'recall-fast[bench]'``). The capacity estimate is the number
of cores this machine needs for ``--target-gb-per-min`` of uncompressed logs (client side only).
Exit status: 0 on success, 1 when the end-to-end run failed, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import recall_fast

DEFAULT_DIR = Path("bench-results")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``bench`` subcommand.

    Args:
        subparsers: The ``add_subparsers()`` object of the top-level parser.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "bench",
        help="measure throughput against plain Python on this machine",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--mb", type=float, default=30.0, help="micro corpus size in MB (TSV)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per benchmark (best kept)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed")
    parser.add_argument("--es", metavar="URL", help="Elasticsearch URL for the end-to-end run")
    parser.add_argument("--s3", metavar="S3_URL", help="ingest this s3://bucket/prefix instead")
    parser.add_argument("--e2e-mb", type=float, default=50.0, help="end-to-end corpus size, MB")
    parser.add_argument(
        "--target-gb-per-min", type=float, default=2.0, help="rate for the capacity estimate"
    )
    parser.add_argument(
        "--json", type=Path, help="JSON report (default bench-results/bench-*.json)"
    )
    parser.add_argument("--chart", type=Path, help="PNG chart (default next to the JSON)")
    parser.add_argument("--no-chart", action="store_true", help="skip the PNG chart")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the subcommand.

    Returns:
        0 on success, 1 when the end-to-end run failed, 2 on a usage error.
    """
    if args.mb <= 0 or args.rounds < 1 or args.e2e_mb <= 0 or args.target_gb_per_min <= 0:
        print("recall-fast bench: sizes, rounds and the target must be positive", file=sys.stderr)
        return 2
    if args.s3 is not None and args.es is None:
        print("recall-fast bench: --s3 needs --es", file=sys.stderr)
        return 2
    # Imported here: pyarrow and the generator are not needed by the rest of the command line.
    from recall_fast.bench import harness, report

    if recall_fast.build_profile == "debug":
        print("recall-fast bench: warning: debug build, the numbers mean nothing", file=sys.stderr)
    corpus = harness.make_corpus(args.mb, seed=args.seed)
    measurements = harness.micro(corpus, rounds=args.rounds)
    comparisons = harness.compare(measurements)
    e2e = None
    status = 0
    if args.es is not None:
        try:
            e2e = harness.end_to_end(args.es, mb=args.e2e_mb, seed=args.seed, s3_source=args.s3)
        except (RuntimeError, OSError, ValueError) as error:
            print(f"recall-fast bench: end-to-end run failed: {error}", file=sys.stderr)
            status = 1
    estimate = report.capacity(args.target_gb_per_min, measurements, e2e)
    print(report.table(measurements, comparisons, e2e, estimate))

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    json_path: Path = args.json or DEFAULT_DIR / f"bench-{stamp}.json"
    document = report.as_json(
        measurements,
        comparisons,
        e2e,
        estimate,
        corpus_mb=corpus.tsv_bytes / 1e6,
        rounds=args.rounds,
    )
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {json_path}")
    if not args.no_chart:
        chart_path: Path = args.chart or json_path.with_suffix(".png")
        try:
            print(f"wrote {report.chart(measurements, chart_path)}")
        except ImportError:
            print(
                "recall-fast bench: no chart: matplotlib missing "
                "(pip install 'recall-fast[bench]')",
                file=sys.stderr,
            )
    return status
