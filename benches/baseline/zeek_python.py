"""Baseline Zeek decoding and bulk encoding with pyarrow and orjson.

Used by ``benches/python`` (side by side with the native path) and ``benches/e2e``. The code
lives in ``recall_fast.bench.baseline`` so that ``recall-fast bench`` (installed, without this
directory) measures against the same baseline; this module re-exports it.
"""

from recall_fast.bench.baseline import (
    actions_for_helpers,
    bulk_bodies_orjson,
    gunzip,
    parse_tsv_header,
    read_json_pyarrow,
    read_tsv_pyarrow,
)

__all__ = [
    "actions_for_helpers",
    "bulk_bodies_orjson",
    "gunzip",
    "parse_tsv_header",
    "read_json_pyarrow",
    "read_tsv_pyarrow",
]
