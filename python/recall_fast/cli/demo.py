"""``recall-fast demo``: the main job on its built-in default, with no external services.

Generates a few minutes of realistic Zeek logs for two tenants (the project's own seeded
generator, ``recall-fast generate``) into an input directory laid out like the S3 bucket, then
ingests that directory into the embedded Parquet sink (``recall-fast ingest``) and prints the
ingest summary. It only composes the two public subcommands, so it exercises exactly what a user
runs by hand.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

DEFAULT_INPUT = Path("recall-input")
DEFAULT_OUTPUT = Path("recall-data")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` subcommand.

    Args:
        subparsers: The ``add_subparsers()`` object of the top-level parser.
    """
    parser = subparsers.add_parser(
        "demo",
        help="generate sample logs for two tenants and ingest them into local Parquet",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--input", type=Path, default=DEFAULT_INPUT, help="where the generated logs go"
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="Parquet sink directory"
    )
    parser.add_argument("--minutes", type=int, default=5, help="minutes of logs per sensor")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (deterministic)")
    parser.add_argument(
        "--keep", action="store_true", help="keep existing input/output instead of replacing"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Generate, then ingest; return the first non-zero exit code.

    Args:
        args: Parsed arguments of the ``demo`` subcommand.

    Returns:
        0 when both steps succeed, else the failing step's exit code.
    """
    from recall_fast.cli.main import main

    if not args.keep:
        for path in (args.input, args.output):
            if path.exists():
                shutil.rmtree(path)
    generate_argv = [
        "generate",
        "--out",
        str(args.input),
        "--tenants",
        "acme,globex",
        "--minutes",
        str(args.minutes),
        "--seed",
        str(args.seed),
    ]
    rc = main(generate_argv)
    if rc != 0:
        return rc
    return main(["ingest", str(args.input), "--to", f"parquet:{args.output}"])
