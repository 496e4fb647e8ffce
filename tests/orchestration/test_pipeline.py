"""The per-object pipeline: tenants, accounting, ranges, failures, backpressure."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from recall_fast.config import DecodeConfig, FeatureFlags, TenantConfig, TenantFeatures
from recall_fast.metrics import Metrics, RateLimitedLogger
from recall_fast.orchestration.acks import RunSummary
from recall_fast.orchestration.pipeline import Pipeline, classify
from recall_fast.sinks.null import NullSink
from recall_fast.sinks.parquet import ParquetSink
from recall_fast.sources.events import TenantResolver
from recall_fast.sources.local import LocalReader, LocalSource
from recall_fast.types import ObjectContext, ObjectRef, OutcomeKind
from tests.orchestration.fakes import FakeFactory

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def executor():
    with ThreadPoolExecutor(2) as pool:
        yield pool


def write(root: Path, rel: str, lines: list[str], header: bool = True) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    head = "#separator \\x09\n#fields\tline\n#types\tstring\n" if header else ""
    path.write_text(head + "".join(f"{line}\n" for line in lines))
    return path


def make_pipeline(sink, factory, *, decode=None, features=None, metrics=None, override=None):
    metrics = metrics or Metrics()
    return Pipeline(
        sink=sink,
        streams=factory,
        reader=LocalReader(chunk_bytes=4096),
        tenants=TenantResolver(TenantConfig()),
        features=features or FeatureFlags(),
        decode=decode or DecodeConfig(read_chunk_bytes=4096),
        metrics=metrics,
        log=RateLimitedLogger(logging.getLogger("recall_fast.test"), rate_per_s=100, burst=100),
        tenant_override=override,
    )


async def run_dir(pipeline, root: Path) -> RunSummary:
    summary = RunSummary()
    source = LocalSource([str(root)], LocalReader(chunk_bytes=4096), summary)
    await pipeline.run(source, max_in_flight=3)
    return summary


async def test_parquet_counts_reconcile_per_tenant(tmp_path, executor):
    inp = tmp_path / "in"
    write(inp, "acme/s1/conn/a.log", [f"a{i}" for i in range(10)] + ["BAD"])
    write(inp, "acme/s1/conn/b.log", [f"b{i}" for i in range(4)])
    write(inp, "globex/s1/conn/c.log", [f"c{i}" for i in range(7)])
    write(inp, "NoTenant/x.log", ["x"])
    write(inp, "globex/s1/conn/garbage.log", ["ok", "GARBAGE"])
    metrics = Metrics()
    out = tmp_path / "out"
    pipeline = make_pipeline(
        ParquetSink(out, executor=executor), FakeFactory(executor, bulk=False), metrics=metrics
    )
    summary = await run_dir(pipeline, inp)
    result = summary.as_dict()
    assert result["objects_by_outcome"] == {"done": 3, "retry": 0, "reject": 2, "partial": 0}
    assert result["records_by_tenant"] == {"acme": 14, "globex": 7}
    assert result["lines_quarantined"] == 1
    reasons = {f["error_type"] for f in result["failures"]}
    assert reasons == {"invalid_tenant", "not_a_zeek_log"}
    rows = {
        t: sum(pq.read_table(p).num_rows for p in (out / f"tenant={t}").rglob("*.parquet"))
        for t in ("acme", "globex")
    }
    assert rows == {"acme": 14, "globex": 7}
    assert not (out / "tenant=NoTenant").exists()
    assert not list(out.rglob("*.tmp"))
    assert metrics.objects.value(outcome="reject") == 2
    assert metrics.records.total() == 21  # the garbage object failed before emitting a batch


async def test_range_split_gives_the_same_records(tmp_path, executor):
    lines = [f"line-{i:05d}-{'x' * (i % 50)}" for i in range(3000)]
    write(tmp_path / "in", "acme/s/conn/big.log", lines)
    results = {}
    for split in (False, True):
        factory = FakeFactory(executor, bulk=False)
        decode = DecodeConfig(
            read_chunk_bytes=4096,
            range_split_min_bytes=MIB if split else 0,
            range_bytes=MIB,
        )
        out = tmp_path / f"out-{split}"
        pipeline = make_pipeline(ParquetSink(out, executor=executor), factory, decode=decode)
        # 1 MiB minimum range: make the file big enough to split into several ranges.
        big = tmp_path / "in" / "acme/s/conn/big.log"
        if big.stat().st_size < 3 * MIB:
            write(tmp_path / "in", "acme/s/conn/big.log", lines * 30)
        summary = await run_dir(pipeline, tmp_path / "in")
        assert summary.ok
        table = pq.read_table(out)
        results[split] = sorted(table.column("line").to_pylist())
        parts = [p for _, p in factory.created]
        if split:
            assert len(parts) >= 3
            assert parts[0].header is None and all(p.header for p in parts[1:])
            records = table.column("record").to_pylist()
            assert len(set(records)) == len(records)
        else:
            assert parts == [None]
    assert results[True] == results[False]
    assert len(results[True]) == 3000 * 30


async def test_feature_flag_skips_log_type(tmp_path, executor):
    write(tmp_path, "acme/s/weird/a.log", ["w1", "w2"])
    flags = FeatureFlags(tenants={"acme": TenantFeatures(disabled_log_types=frozenset({"weird"}))})
    sink = NullSink()
    pipeline = make_pipeline(
        sink, FakeFactory(executor, bulk=True, log_type="weird"), features=flags
    )
    summary = await run_dir(pipeline, tmp_path)
    assert summary.ok
    assert summary.totals.documents_skipped == 2
    assert sink.documents == 0


async def test_tenant_override(tmp_path, executor):
    write(tmp_path, "whatever.log", ["a"])
    sink = NullSink()
    summary = await run_dir(
        make_pipeline(sink, FakeFactory(executor, bulk=True), override="acme"), tmp_path
    )
    assert summary.ok
    assert summary.tenants == {"acme": 1}


class FailingSink(NullSink):
    async def write(self, item, ctx: ObjectContext) -> None:
        ctx.submitted(0)
        ctx.fail("elasticsearch: down")


async def test_sink_failure_is_transient_retry(tmp_path, executor):
    write(tmp_path, "acme/s/conn/a.log", [str(i) for i in range(10)])
    summary = await run_dir(
        make_pipeline(FailingSink(), FakeFactory(executor, bulk=True)), tmp_path
    )
    assert summary.objects["retry"] == 1
    assert summary.failures[0]["reason"] == "elasticsearch: down"


class SlowSink(NullSink):
    """Holds each write until released: shows that decoding waits for the sink."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.writes = 0

    async def write(self, item, ctx) -> None:
        self.writes += 1
        await self.gate.wait()
        await super().write(item, ctx)


async def test_backpressure_stops_reading(tmp_path, executor):
    path = write(tmp_path, "acme/s/conn/a.log", [f"{i:08d}" for i in range(50_000)])
    sink = SlowSink()
    decode = DecodeConfig(read_chunk_bytes=4096, queue_chunks=2)
    pipeline = make_pipeline(sink, FakeFactory(executor, bulk=True), decode=decode)
    summary = RunSummary()
    source = LocalSource([str(tmp_path)], LocalReader(chunk_bytes=4096), summary)
    task = asyncio.create_task(pipeline.run(source, max_in_flight=1))
    await asyncio.sleep(0.3)
    # One write is blocked; the reader can be at most queue + one chunk in decode ahead.
    assert sink.writes == 1
    assert pipeline is not None
    sink.gate.set()
    await task
    assert summary.ok
    assert summary.totals.bytes_in == path.stat().st_size
    assert summary.totals.documents_indexed == 50_000


def test_classify():
    from recall_fast.errors import DecompressError, InternalError

    assert classify(DecompressError("x"))[:2] == (OutcomeKind.REJECT, "corrupt_compressed_stream")
    assert classify(ExceptionGroup("g", [OSError("x")]))[:2] == (OutcomeKind.RETRY, "transient")
    assert (
        classify(ExceptionGroup("g", [OSError("x"), InternalError("p")]))[0] is OutcomeKind.REJECT
    )
    assert classify(KeyError("k"))[:2] == (OutcomeKind.RETRY, "unexpected")


class StoppingSink(NullSink):
    """Records the first record of every item and sets the stop event after ``after`` writes."""

    def __init__(self, stop: asyncio.Event, after: int) -> None:
        super().__init__()
        self.stop = stop
        self.after = after
        self.firsts: list[int] = []

    async def write(self, item, ctx) -> None:
        self.firsts.append(item.first_record)
        await super().write(item, ctx)
        if len(self.firsts) == self.after:
            self.stop.set()


@pytest.mark.parametrize("split", [False, True])
async def test_stop_and_resume_covers_every_record_once(tmp_path, executor, split):
    lines = [f"{i:07d}" + "y" * 40 for i in range(60_000)]
    path = write(tmp_path, "acme/s/conn/a.log", lines)
    decode = DecodeConfig(
        read_chunk_bytes=4096, range_split_min_bytes=MIB if split else 0, range_bytes=MIB
    )
    assert path.stat().st_size > 2 * MIB
    stop = asyncio.Event()
    sink = StoppingSink(stop, after=50)
    pipeline = make_pipeline(sink, FakeFactory(executor, bulk=True), decode=decode)
    pipeline._stop = stop
    obj = ObjectRef("", "acme/s/conn/a.log", "", path.stat().st_size, path)
    first = await pipeline.process(obj)
    assert first.kind is OutcomeKind.PARTIAL
    assert first.resume is not None and first.resume.split is split and first.resume.hops == 1
    written_first = first.counts.documents_indexed
    assert 0 < written_first < 60_000

    second_sink = StoppingSink(asyncio.Event(), after=-1)
    resumed = make_pipeline(second_sink, FakeFactory(executor, bulk=True), decode=decode)
    second = await resumed.process(obj, first.resume)
    assert second.kind is OutcomeKind.DONE
    assert written_first + second.counts.documents_indexed == 60_000
    assert len(set(sink.firsts) | set(second_sink.firsts)) == len(sink.firsts) + len(
        second_sink.firsts
    )


async def test_stop_takes_effect_between_writes_of_one_feed(tmp_path, executor):
    # One 64 KiB read decodes into hundreds of bulk items (one request each): the stop must not
    # wait for the next read (the Lambda deadline case), it ends the object after the write
    # that saw it, and the checkpoint resumes exactly after the last item written.
    lines = [f"{i:07d}" + "z" * 40 for i in range(20_000)]
    path = write(tmp_path, "acme/s/conn/a.log", lines)
    decode = DecodeConfig(read_chunk_bytes=64 * 1024, range_split_min_bytes=0)
    stop = asyncio.Event()
    sink = StoppingSink(stop, after=5)
    pipeline = make_pipeline(sink, FakeFactory(executor, bulk=True), decode=decode)
    pipeline._stop = stop
    obj = ObjectRef("", "acme/s/conn/a.log", "", path.stat().st_size, path)
    first = await pipeline.process(obj)
    assert first.kind is OutcomeKind.PARTIAL
    assert len(sink.firsts) == 5  # not the hundreds the first read decoded into
    assert first.resume is not None and first.resume.parts == {0: 15}  # 5 items of 3 records

    second_sink = StoppingSink(asyncio.Event(), after=-1)
    resumed = make_pipeline(second_sink, FakeFactory(executor, bulk=True), decode=decode)
    second = await resumed.process(obj, first.resume)
    assert second.kind is OutcomeKind.DONE
    assert first.counts.documents_indexed + second.counts.documents_indexed == 20_000
    assert sorted(sink.firsts + second_sink.firsts) == list(range(0, 20_000, 3))


async def test_object_with_only_bad_lines_is_rejected(tmp_path, executor):
    write(tmp_path, "acme/s/conn/junk.log", ["BAD", "BAD", "BAD"], header=False)
    summary = await run_dir(make_pipeline(NullSink(), FakeFactory(executor, bulk=True)), tmp_path)
    assert summary.objects["reject"] == 1
    assert summary.failures[0]["error_type"] == "not_a_zeek_log"
    assert summary.totals.lines_quarantined == 3
