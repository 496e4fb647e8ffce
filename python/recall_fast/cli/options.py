"""Command-line flags generated from the configuration's field table.

Stage: CLI edge. Every option of a config section becomes a flag whose help is the field's own
help text plus its default and environment variable, so ``--help``, the TOML keys and the
environment names can never drift apart. Flags default to None: only flags actually given
override the TOML file and the environment.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Final, TypeVar

from recall_fast.config import SECTIONS, Overrides, env_name

E = TypeVar("E", bound=BaseException)

#: Flag prefix per section (short names where they cannot collide).
FLAG_PREFIX: Final = {
    "tenants": "tenant-",
    "decode": "",
    "elasticsearch": "es-",
    "s3": "s3-",
    "queue": "",
    "dead_letter": "dead-letter-",
    "observability": "",
    "aws_lambda": "lambda-",
}
_DEST_PREFIX: Final = "cfg__"


def flag_name(section: str, name: str) -> str:
    """The command-line flag of one option, e.g. ``--es-max-chunk-bytes``."""
    return "--" + FLAG_PREFIX[section] + name.replace("_", "-")


def _default_text(value: object) -> str:
    if isinstance(value, tuple | frozenset):
        return ",".join(str(v) for v in value) or "none"
    if isinstance(value, typing.Mapping):
        return "{}" if not value else str(dict(value))
    return str(value)


def add_config_flags(
    parser: argparse.ArgumentParser,
    sections: Sequence[str],
    *,
    skip: frozenset[str] = frozenset(),
) -> None:
    """Add ``--config`` and one flag per option of ``sections``.

    Args:
        parser: The subcommand's parser.
        sections: Config sections to expose.
        skip: ``section.field`` names not to expose (set by dedicated flags instead).
    """
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="TOML",
        help="TOML configuration file (also RECALL_FAST_CONFIG); flags override it",
    )
    for section in sections:
        cls = SECTIONS[section]
        group = parser.add_argument_group(f"{section} options")
        defaults = cls()
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f"{section}.{f.name}" in skip:
                continue
            default = getattr(defaults, f.name)
            help_text = (
                f"{f.metadata.get('help', '')} (default: {_default_text(default)}; "
                f"env {env_name(section, f.name)})"
            )
            dest = f"{_DEST_PREFIX}{section}__{f.name}"
            if hints[f.name] is bool:
                group.add_argument(
                    flag_name(section, f.name),
                    dest=dest,
                    action=argparse.BooleanOptionalAction,
                    default=None,
                    help=help_text,
                )
            else:
                group.add_argument(
                    flag_name(section, f.name),
                    dest=dest,
                    default=None,
                    metavar=f.name.upper(),
                    help=help_text,
                )
        if section == "elasticsearch" and "elasticsearch.verify_certs" not in skip:
            # The explicit, greppable spelling of --no-es-verify-certs (logged as a warning).
            group.add_argument(
                "--es-insecure",
                dest=f"{_DEST_PREFIX}elasticsearch__verify_certs",
                action="store_const",
                const=False,
                default=None,
                help="do not verify the Elasticsearch TLS certificate (same as "
                "--no-es-verify-certs; logged as a warning)",
            )


def overrides_from(args: argparse.Namespace) -> dict[str, dict[str, object]]:
    """Collect the config flags that were given into overrides for :func:`config.load`."""
    out: dict[str, dict[str, object]] = {}
    for dest, value in vars(args).items():
        if not dest.startswith(_DEST_PREFIX) or value is None:
            continue
        section, _, name = dest[len(_DEST_PREFIX) :].partition("__")
        out.setdefault(section, {})[name] = value
    return out


def leaf_errors(error: BaseException, kind: type[E]) -> list[E]:
    """The leaf exceptions of ``error`` (a task group may wrap them) if all are ``kind``.

    Returns:
        The leaves, or an empty list when any leaf is of another type (then re-raise).
    """
    if isinstance(error, kind):
        return [error]
    if isinstance(error, BaseExceptionGroup):
        found: list[E] = []
        for inner in error.exceptions:
            nested = leaf_errors(inner, kind)
            if not nested:
                return []
            found.extend(nested)
        return found
    return []


def merge(base: dict[str, dict[str, object]], extra: Overrides) -> dict[str, dict[str, object]]:
    """Merge ``extra`` into ``base`` (extra wins) and return ``base``."""
    for section, values in extra.items():
        base.setdefault(section, {}).update(values)
    return base
