"""``recall-fast worker``: consume S3 notifications from SQS into Elasticsearch until stopped.

Example::

    recall-fast worker --queue-url https://sqs.../recall \\
        --dead-letter-queue-url https://sqs.../dlq \\
        --es https://es.example:9200 --metrics-port 9108

Each message is kept invisible while its objects are processed (heartbeat), deleted only when
every document is indexed or dead-lettered, delayed by ``--retry-delays-s`` on a transient
failure (Elasticsearch or S3 down) and moved to the dead-letter queue on a permanent one (not a
Zeek log, unknown tenant, corrupt stream) or when the delays are used up. SIGTERM/SIGINT: stop
receiving, finish or release held messages within ``--shutdown-deadline-s``, exit 0.
"""

from __future__ import annotations

import argparse
import sys

from recall_fast.cli.options import add_config_flags, leaf_errors, merge, overrides_from
from recall_fast.config import from_env
from recall_fast.errors import ConfigError
from recall_fast.metrics import configure_logging
from recall_fast.orchestration.runtime import run
from recall_fast.orchestration.worker import serve
from recall_fast.sinks.base import es_url, parse_sink

SECTIONS = (
    "queue",
    "elasticsearch",
    "tenants",
    "decode",
    "s3",
    "dead_letter",
    "observability",
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``worker`` subcommand.

    Args:
        subparsers: The ``add_subparsers()`` object of the top-level parser.
    """
    parser = subparsers.add_parser(
        "worker",
        help="consume S3 notifications from SQS into Elasticsearch (ECS/EC2)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--to",
        default=None,
        metavar="DEST",
        help="es://host:port (default: the Elasticsearch URLs), ndjson:PATH|- or null",
    )
    parser.add_argument(
        "--es",
        default=None,
        metavar="URL",
        help="Elasticsearch URL(s), comma-separated; es://host:port accepted (same as --es-urls)",
    )
    add_config_flags(parser, SECTIONS, skip=frozenset({"decode.max_objects_in_flight"}))
    parser.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    """Run the worker until stopped.

    Returns:
        0 after a graceful stop, 2 on configuration errors.
    """
    try:
        overrides = overrides_from(args)
        if args.es:
            urls = ",".join(es_url(u.strip()) for u in args.es.split(",") if u.strip())
            merge(overrides, {"elasticsearch": {"urls": urls}})
        spec = parse_sink(args.to) if args.to else None
        if spec is not None and spec.kind == "parquet":
            raise ConfigError("--to: the worker writes to es://, ndjson: or null, not parquet")
        if spec is not None and spec.kind == "elasticsearch":
            merge(overrides, {"elasticsearch": {"urls": ",".join(spec.urls)}})
        config = from_env(toml_path=args.config, overrides=overrides)
        if not config.queue.queue_url:
            raise ConfigError("--queue-url (or RECALL_FAST_QUEUE__QUEUE_URL) is required")
    except ConfigError as error:
        print(f"recall-fast worker: {error}", file=sys.stderr)
        return 2
    configure_logging(config.observability.log_level)
    try:
        run(serve(config, sink_spec=spec))
    except (ConfigError, ExceptionGroup) as error:
        configs = leaf_errors(error, ConfigError)
        if not configs:
            raise
        for config_error in configs:
            print(f"recall-fast worker: {config_error}", file=sys.stderr)
        return 2
    return 0
