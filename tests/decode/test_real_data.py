"""The decoder over the real Zeek logs of the developer data set (``../shared/data/zeek``).

Every file decodes with no quarantined line and the row count its README lists; the WRCCDC
TSV and JSON copies of the same traffic decode to equal tables for every log type.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from recall_fast import read_zeek

# JSON-only bookkeeping columns (json-streaming-logs, zeekctl), not in the TSV copies.
IGNORED = {"_path", "_write_ts", "_node_name", "_system_name"}


def readme_rows(shared_zeek: Path) -> dict[str, int]:
    """``file -> rows`` from the README's file tables (read at test time)."""
    rows: dict[str, int] = {}
    for line in (shared_zeek / "README.md").read_text().splitlines():
        if line.startswith("| `"):
            cells = [c.strip() for c in line.split("|")]
            rows[cells[1].strip("`")] = int(cells[6])
    return rows


def test_readme_lists_every_file(shared_zeek: Path) -> None:
    rows = readme_rows(shared_zeek)
    on_disk = {str(p.relative_to(shared_zeek)) for p in shared_zeek.rglob("*.gz") if p.is_file()}
    assert set(rows) == on_disk
    assert len(rows) == 149


@pytest.mark.parametrize("kind", ["tsv", "json"])
def test_every_file_decodes_with_readme_row_counts(shared_zeek: Path, kind: str) -> None:
    rows = readme_rows(shared_zeek)
    files = sorted(f for f in rows if f.startswith(f"{kind}/"))
    assert files
    for name in files:
        stream = read_zeek(shared_zeek / name, batch_rows=8192)
        decoded = sum(batch.num_rows for batch in stream)
        stats = stream.stats
        assert stream.quarantine == [], name
        assert stats["quarantined"] == 0, name
        assert decoded == stats["records"] == rows[name], name
        assert stats["lines"] == stats["records"] + stats["header_lines"], name


def wrccdc_log_types(shared_zeek: Path) -> list[str]:
    names = readme_rows(shared_zeek)
    return sorted(
        m.group(1) for f in names if (m := re.fullmatch(r"json/([a-z_0-9]+)\.json\.gz", f))
    )


def as_nanos(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column.cast(pa.int64())


def assert_close(name: str, tsv: pa.ChunkedArray, json: pa.ChunkedArray, tolerance: float) -> None:
    assert tsv.null_count == json.null_count, name
    assert pc.all(pc.equal(pc.is_null(tsv), pc.is_null(json))).as_py(), name
    diff = pc.abs(pc.subtract(tsv, json))
    both_nan = pc.and_(pc.is_nan(tsv), pc.is_nan(json)) if pa.types.is_floating(tsv.type) else None
    worst = pc.max(diff if both_nan is None else pc.if_else(both_nan, 0, diff)).as_py()
    assert worst is None or worst <= tolerance, f"{name}: off by {worst}"


def normalise_text_lists(values: list[list[str | None] | None]) -> list[list[str | None] | None]:
    """TSV writes a set holding only "" like the empty set; JSON keeps [""]."""
    return [[] if v == [""] else v for v in values]


def assert_columns_equal(name: str, tsv: pa.ChunkedArray, json: pa.ChunkedArray) -> None:
    kind = tsv.type
    assert kind == json.type, name
    if pa.types.is_floating(kind):
        assert_close(name, tsv, json, 1e-6)
    elif pa.types.is_duration(kind) or pa.types.is_timestamp(kind):
        assert_close(name, as_nanos(tsv), as_nanos(json), 1000)
    elif pa.types.is_list(kind):
        item = kind.value_type
        if pa.types.is_string(item):
            assert normalise_text_lists(tsv.to_pylist()) == normalise_text_lists(
                json.to_pylist()
            ), name
        else:
            assert pc.all(
                pc.equal(pc.list_value_length(tsv), pc.list_value_length(json))
            ).as_py() in (
                True,
                None,
            ), name
            assert_columns_equal(name, pc.list_flatten(tsv), pc.list_flatten(json))
    else:
        assert tsv.equals(json), name


def test_wrccdc_tsv_and_json_decode_to_equal_tables(shared_zeek: Path) -> None:
    log_types = wrccdc_log_types(shared_zeek)
    assert len(log_types) == 32
    for log_type in log_types:
        tsv = pa.table(read_zeek(shared_zeek / "tsv" / f"{log_type}.log.gz"))
        json = pa.table(read_zeek(shared_zeek / "json" / f"{log_type}.json.gz"))
        json = json.drop_columns([c for c in json.column_names if c in IGNORED])
        assert tsv.column_names == json.column_names, log_type
        assert tsv.num_rows == json.num_rows, log_type
        for field in tsv.schema:
            assert field.type == json.schema.field(field.name).type, (log_type, field.name)
            assert field.metadata == json.schema.field(field.name).metadata, (log_type, field.name)
            assert_columns_equal(
                f"{log_type}.{field.name}", tsv.column(field.name), json.column(field.name)
            )
