"""Baseline Zeek decoding and bulk encoding with pyarrow and orjson: the plain-Python way.

Stage: benchmark tooling. What a competent Python user writes to get Zeek logs into
Elasticsearch without recall_fast; ``recall-fast bench``, ``benches/python`` and
``benches/e2e`` measure the native path against it (``benches/baseline/zeek_python.py``
re-exports this module). Imports pyarrow and orjson only, never the pipeline.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson

# Zeek type -> Arrow type, what a careful user writes by hand from the Zeek docs. Containers are
# read as strings and split with pyarrow.compute (vectorised), as a user would.
_SCALAR_TYPES: dict[str, pa.DataType] = {
    "time": pa.float64(),  # converted to timestamp below
    "interval": pa.float64(),
    "count": pa.uint64(),
    "int": pa.int64(),
    "double": pa.float64(),
    "bool": pa.bool_(),
    "port": pa.uint16(),
}


def parse_tsv_header(data: bytes) -> tuple[list[str], list[str], int]:
    """Read ``#fields`` and ``#types`` from the first header block.

    Returns:
        (field names, Zeek type names, number of header lines before the first record).
    """
    fields: list[str] = []
    types: list[str] = []
    skip = 0
    for line in io.BytesIO(data):
        if not line.startswith(b"#"):
            break
        skip += 1
        parts = line.rstrip(b"\n").split(b"\t")
        if parts[0] == b"#fields":
            fields = [p.decode() for p in parts[1:]]
        elif parts[0] == b"#types":
            types = [p.decode() for p in parts[1:]]
    return fields, types, skip


def read_tsv_pyarrow(data: bytes, *, use_threads: bool = False) -> pa.Table:
    """Parse one Zeek TSV block with ``pyarrow.csv`` and type it from ``#types``.

    Comment lines (``#close``) are dropped by treating ``#`` lines as invalid rows; sets and
    vectors are split vectorised; times become timestamp[us, UTC].
    """
    import pyarrow.compute as pc

    fields, types, skip = parse_tsv_header(data)
    column_types = {
        f: _SCALAR_TYPES.get(t, pa.string()) for f, t in zip(fields, types, strict=True)
    }
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(
            column_names=fields, skip_rows=skip, use_threads=use_threads, block_size=1 << 24
        ),
        parse_options=pacsv.ParseOptions(
            delimiter="\t", quote_char=False, escape_char=False, invalid_row_handler=_skip_row
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=column_types,
            null_values=["-"],
            true_values=["T"],
            false_values=["F"],
            strings_can_be_null=True,
        ),
    )
    columns = []
    for name, zeek_type in zip(fields, types, strict=True):
        col = table.column(name)
        if zeek_type in ("time", "interval"):
            # Microseconds: Zeek writes 6 decimals, and to_pylist() cannot turn nanosecond
            # timestamps into datetime without pandas.
            micros = pc.cast(pc.round(pc.multiply(col, 1e6)), pa.int64(), safe=False)
            target = pa.timestamp("us", tz="UTC") if zeek_type == "time" else pa.duration("us")
            col = micros.cast(target)
        elif zeek_type.startswith(("set[", "vector[", "table[")):
            col = pc.split_pattern(col, ",")
        columns.append(col)
    return pa.table(columns, names=fields)


def _skip_row(row: object) -> str:
    # #close and other comment lines have the wrong column count: skip them.
    return "skip"


def read_json_pyarrow(data: bytes, *, use_threads: bool = False) -> pa.Table:
    """Parse Zeek NDJSON with ``pyarrow.json`` (schema inferred, as a user would)."""
    return pajson.read_json(
        io.BytesIO(data),
        read_options=pajson.ReadOptions(use_threads=use_threads, block_size=1 << 24),
    )


def gunzip(data: bytes) -> bytes:
    """Decompress with the standard library (zlib)."""
    return gzip.decompress(data)


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "total_seconds"):
        return value.total_seconds()
    raise TypeError(type(value))


def bulk_bodies_orjson(
    table: pa.Table,
    *,
    index: str,
    id_prefix: str,
    max_docs: int = 5000,
) -> Iterator[bytes]:
    """Encode a table as ``_bulk`` bodies: ``to_pylist()`` then one orjson dict per row.

    Adds the fields a user adds by hand (``@timestamp``, ``event.dataset``) and a deterministic id.
    """
    rows = table.to_pylist()
    ingested = datetime.now(UTC).isoformat()
    lines: list[bytes] = []
    for n, row in enumerate(rows):
        ts = row.get("ts")
        doc = {
            "@timestamp": ts,
            "event": {"module": "zeek", "dataset": index, "ingested": ingested},
            "zeek": row,
        }
        lines.append(orjson.dumps({"create": {"_index": index, "_id": f"{id_prefix}-{n}"}}))
        lines.append(orjson.dumps(doc, default=_default))
        if len(lines) >= 2 * max_docs:
            yield b"\n".join(lines) + b"\n"
            lines = []
    if lines:
        yield b"\n".join(lines) + b"\n"


def actions_for_helpers(table: pa.Table, *, index: str, id_prefix: str) -> Iterator[dict[str, Any]]:
    """Actions for ``elasticsearch.helpers.async_streaming_bulk`` (it serialises them itself)."""
    ingested = datetime.now(UTC).isoformat()
    for n, row in enumerate(table.to_pylist()):
        yield {
            "_op_type": "create",
            "_index": index,
            "_id": f"{id_prefix}-{n}",
            "_source": {
                "@timestamp": row.get("ts"),
                "event": {"module": "zeek", "dataset": index, "ingested": ingested},
                "zeek": row,
            },
        }
