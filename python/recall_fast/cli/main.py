"""Entry point of the ``recall-fast`` command line.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds its parser
and sets ``func`` to a callable taking the parsed namespace and returning an exit code. This
module only builds the parser and dispatches; configuration is built at this edge and passed
down (no environment reads elsewhere).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from recall_fast import __version__

# Subcommand modules under recall_fast.cli, in the order --help lists them. Imported lazily so
# that `recall-fast --version` and the Lambda handler stay lean.
SUBCOMMANDS: tuple[str, ...] = (
    "demo",
    "ingest",
    "worker",
    "dlq",
    "templates",
    "generate",
    "bench",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every subcommand registered.

    Returns:
        The parser; each subcommand sets ``func`` on the namespace.
    """
    parser = argparse.ArgumentParser(
        prog="recall-fast",
        description="Ingest Zeek logs into Elasticsearch or Parquet, fast, per tenant.",
    )
    parser.add_argument("--version", action="version", version=f"recall-fast {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"recall_fast.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns:
        The process exit code.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    return func(args)
