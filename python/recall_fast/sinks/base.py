"""What every sink shares: the ``--to`` destination syntax and bulk body slicing.

Stage: sink. Destinations:

- ``es://host:port`` (``es+https://host:port``, or a plain ``http(s)://`` URL): Elasticsearch;
- ``parquet:DIR``: Parquet files partitioned by tenant, dataset and day (the default:
  ``parquet:recall-data``);
- ``ndjson:PATH`` or ``ndjson:-`` (stdout): the normalised documents, one JSON per line;
- ``null``: discard (benchmarks: measures everything up to the sink).

Bulk bodies are ``action\\ndocument\\n`` pairs, so documents are the odd lines; slicing them
out is C-level ``bytes`` work per body, not a Python loop per record.

Must not import clients or the native extension.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from recall_fast.errors import ConfigError

SinkKind = Literal["elasticsearch", "parquet", "ndjson", "null"]

DEFAULT_PARQUET_DIR = Path("recall-data")


@dataclass(frozen=True, slots=True)
class SinkSpec:
    """A parsed ``--to`` destination."""

    kind: SinkKind
    urls: tuple[str, ...] = ()
    path: Path | None = None
    """Directory (parquet) or file (ndjson); None for ndjson means stdout."""


def es_url(value: str) -> str:
    """Turn ``es://h:p`` / ``es+https://h:p`` into an HTTP URL; other URLs pass unchanged.

    Raises:
        ConfigError: No host.
    """
    for prefix, scheme in (
        ("es+https://", "https://"),
        ("es+http://", "http://"),
        ("es://", "http://"),
    ):
        if value.startswith(prefix):
            rest = value[len(prefix) :]
            if not rest:
                raise ConfigError(f"no host in {value!r}")
            return scheme + rest
    if value.startswith(("http://", "https://")):
        return value
    raise ConfigError(f"not an Elasticsearch URL: {value!r}")


def parse_sink(text: str) -> SinkSpec:
    """Parse a ``--to`` value.

    Args:
        text: See the module docs.

    Returns:
        The destination.

    Raises:
        ConfigError: Unknown or incomplete destination.
    """
    if text.startswith(("es://", "es+http://", "es+https://", "http://", "https://")):
        return SinkSpec("elasticsearch", urls=tuple(es_url(u) for u in text.split(",")))
    kind, sep, rest = text.partition(":")
    if kind == "parquet":
        return SinkSpec("parquet", path=Path(rest) if rest else DEFAULT_PARQUET_DIR)
    if kind == "ndjson" and sep:
        if not rest:
            raise ConfigError("ndjson: needs a path or '-' for stdout")
        return SinkSpec("ndjson", path=None if rest == "-" else Path(rest))
    if text == "null":
        return SinkSpec("null")
    raise ConfigError(
        f"unknown destination {text!r}: use es://host:port, parquet:DIR, ndjson:PATH|- or null"
    )


def document_lines(body: bytes) -> bytes:
    """Return the document lines of a bulk body (every second line), newline-terminated.

    Args:
        body: ``action\\ndocument\\n`` pairs.

    Returns:
        The documents, one per line.
    """
    docs = body.split(b"\n")[1::2]
    if not docs:
        return b""
    return b"\n".join(docs) + b"\n"


def select_items(body: bytes, positions: Sequence[int]) -> bytes:
    """Return a bulk body with only the items at ``positions`` (0-based, in body order).

    Used to re-send just the items Elasticsearch answered 429/5xx for.

    Args:
        body: The original body.
        positions: Item positions to keep.

    Returns:
        A new body with those action/document pairs.
    """
    lines = body.split(b"\n")
    out: list[bytes] = []
    for p in positions:
        out.append(lines[2 * p])
        out.append(lines[2 * p + 1])
    return b"\n".join(out) + b"\n" if out else b""
