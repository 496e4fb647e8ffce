"""Parquet sink: partitioning by tenant/dataset/day, atomic publish, idempotent re-ingest."""

from __future__ import annotations

import asyncio

import pyarrow as pa
import pyarrow.parquet as pq

from recall_fast.sinks.parquet import NULL_DAY, ParquetSink, split_by_day
from tests.sinks.conftest import Batch, make_ctx

DAY = 86_400 * 10**9
TS = pa.timestamp("ns", tz="UTC")


def batch(ts: list[int | None], extra: str = "x") -> pa.RecordBatch:
    return pa.record_batch(
        {"ts": pa.array(ts, TS), "uid": pa.array([f"{extra}{i}" for i in range(len(ts))])}
    )


def test_split_by_day_one_day_is_zero_copy():
    b = batch([DAY * 19000 + 1, DAY * 19000 + 5])
    ((day, rows),) = split_by_day(b)
    assert day == "2022-01-08"
    assert rows is b


def test_split_by_day_spanning_midnight_and_nulls():
    b = batch([DAY * 19000 + 1, DAY * 19001 + 2, None, DAY * 19000 + 3])
    parts = dict(split_by_day(b))
    assert parts["2022-01-08"].column("uid").to_pylist() == ["x0", "x3"]
    assert parts["2022-01-09"].num_rows == 1
    assert parts[NULL_DAY].num_rows == 1


def test_split_without_ts_column():
    b = pa.record_batch({"name": ["a"]})
    assert split_by_day(b) == [(NULL_DAY, b)]


async def test_write_partitions_and_publish(tmp_path):
    sink = ParquetSink(tmp_path, row_group_rows=2)
    ctx = make_ctx()
    await sink.write(Batch(batch([DAY * 19000, DAY * 19001]), "conn"), ctx)
    await sink.write(Batch(batch([DAY * 19000] * 3, "y"), "conn"), ctx)
    await sink.write(Batch(pa.record_batch({"name": ["a", "b"]}), "loaded_scripts"), ctx)
    assert ctx.counts.documents_indexed == 7
    assert not list(tmp_path.rglob("*.parquet"))  # nothing visible before end_object
    await sink.end_object(ctx)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.parquet"))
    assert files == [
        f"tenant=acme/dataset=zeek.conn/day=2022-01-08/part-{ctx.ref.digest}-0000.parquet",
        f"tenant=acme/dataset=zeek.conn/day=2022-01-09/part-{ctx.ref.digest}-0001.parquet",
        f"tenant=acme/dataset=zeek.loaded_scripts/day={NULL_DAY}/part-{ctx.ref.digest}-0002.parquet",
    ]
    table = pq.read_table(tmp_path / files[0])
    assert table.num_rows == 4
    assert table.schema.field("ts").type == TS
    assert not list(tmp_path.rglob("*.tmp"))
    assert sink.files_written == 3


async def test_schema_change_opens_a_new_part(tmp_path):
    sink = ParquetSink(tmp_path)
    ctx = make_ctx()
    await sink.write(Batch(batch([DAY]), "conn"), ctx)
    other = pa.record_batch({"ts": pa.array([DAY], TS), "other": pa.array([1])})
    await sink.write(Batch(other, "conn"), ctx)
    await sink.end_object(ctx)
    assert len(list(tmp_path.rglob("*.parquet"))) == 2


async def test_reingest_replaces_instead_of_duplicating(tmp_path):
    for _ in range(2):
        sink = ParquetSink(tmp_path)
        ctx = make_ctx()
        await sink.write(Batch(batch([DAY, DAY + 1]), "conn"), ctx)
        await sink.end_object(ctx)
    tables = [pq.read_table(p) for p in tmp_path.rglob("*.parquet")]
    assert sum(t.num_rows for t in tables) == 2


async def test_abort_leaves_nothing(tmp_path):
    sink = ParquetSink(tmp_path)
    ctx = make_ctx()
    await sink.write(Batch(batch([DAY]), "conn"), ctx)
    await sink.abort_object(ctx)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


async def test_concurrent_objects_and_unsafe_log_type(tmp_path):
    sink = ParquetSink(tmp_path)
    ctxs = [make_ctx(key=f"acme/s/conn/{i}.log") for i in range(5)]

    async def one(c):
        await sink.write(Batch(batch([DAY] * 10), "../evil"), c)
        await sink.end_object(c)

    await asyncio.gather(*(one(c) for c in ctxs))
    files = list(tmp_path.rglob("*.parquet"))
    assert len(files) == 5
    assert all("dataset=zeek.unknown" in str(f) for f in files)
