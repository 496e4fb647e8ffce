"""The worker as a real process (`python -m recall_fast worker`): crash, signals, memory."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from recall_fast import _native
from tests.integration.conftest import Stack, start_worker
from tests.services.process import free_tcp_port

pytestmark = pytest.mark.integration


async def wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.3)


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def peak_rss(pid: int) -> int:
    """The kernel's high-water mark of the process's resident set (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def log_tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:] if path.exists() else ""


async def test_sigkill_mid_object_then_restart_exact_counts(stack: Stack, worker_env):
    stack.tenants = (stack.tenants[0], stack.tenants[1])
    stack.generate(sensors=1, minutes=2, log_types=["conn"], records_per_minute={"conn": 15000})
    await stack.upload_all()
    env = dict(worker_env, RECALL_FAST_QUEUE__VISIBILITY_TIMEOUT_S="6")
    log = stack.work / "worker.log"
    first = start_worker(env, log=log)
    try:

        async def some_indexed() -> bool:
            counts = await asyncio.to_thread(stack.counts)
            return 0 < sum(counts.values())

        await wait_for(some_indexed, 120, "first documents")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        partial = await asyncio.to_thread(stack.counts)
        assert sum(partial.values()) < sum(stack.expected.values()), log_tail(log)
    finally:
        if first.poll() is None:
            first.kill()
    second = start_worker(env, log=log)
    try:
        counts = await stack.wait_counts(stack.expected, timeout_s=300)
        assert counts == stack.expected, log_tail(log)
        assert await stack.wait_queue_empty() == (0, 0)
        assert stack.cross_tenant_documents() == 0
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(60) == 0, log_tail(log)


async def test_sigterm_exits_within_deadline_and_releases_messages(stack: Stack, worker_env):
    stack.generate(minutes=1, log_types=["conn", "dns"], sensors=1, records_per_minute={"conn": 20})
    keys = await stack.upload_all()
    env = dict(
        worker_env,
        RECALL_FAST_ELASTICSEARCH__URLS="http://127.0.0.1:9",
        RECALL_FAST_ELASTICSEARCH__REQUEST_RETRY_BUDGET_S="600",
        RECALL_FAST_QUEUE__SHUTDOWN_DEADLINE_S="3",
        RECALL_FAST_QUEUE__VISIBILITY_TIMEOUT_S="300",
    )
    log = stack.work / "worker.log"
    process = start_worker(env, log=log)
    try:

        async def all_held() -> bool:
            return (await stack.queue_depth())[1] == len(keys)

        await wait_for(all_held, 60, "every message in flight")
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 60)
        elapsed = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, log_tail(log)
    assert elapsed < 3 + 10, f"took {elapsed:.1f} s"
    # Released: visible again at once, although the visibility timeout was 300 s.
    assert (await stack.queue_depth())[0] == len(keys), log_tail(log)


@pytest.mark.slow
async def test_one_gigabyte_object_keeps_rss_bounded(stack: Stack, worker_env):
    tenant = stack.tenants[0]
    block = _native.synth_log("conn", records=100_000)
    header_end = block.index(b"\n", block.index(b"\n#types") + 1) + 1
    body = block[header_end : block.rindex(b"#close")]
    repeats = -(-(1 << 30) // len(body))
    data = block[:header_end] + body * repeats
    assert len(data) >= 1 << 30
    key = f"{tenant}/sensor-01/conn/2024/05/01/conn.big.log"
    await stack.s3.put_object(Bucket=stack.bucket, Key=key, Body=data)
    records = body.count(b"\n") * repeats
    del data, block, body
    # Production body sizes (the other tests use small bodies to get many requests).
    env = dict(
        worker_env,
        RECALL_FAST_QUEUE__VISIBILITY_TIMEOUT_S="60",
        RECALL_FAST_ELASTICSEARCH__MAX_CHUNK_DOCS="5000",
    )
    log = stack.work / "worker.log"
    port = free_tcp_port()
    process = start_worker(env, "--to", "null", "--metrics-port", str(port), log=log)
    peak = 0
    try:
        proc = psutil.Process(process.pid)
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            peak = max(peak, proc.memory_info().rss)
            if await stack.queue_depth() == (0, 0):
                break
            await asyncio.sleep(0.2)
        assert await stack.queue_depth() == (0, 0), log_tail(log)
        text = await asyncio.to_thread(scrape, f"http://127.0.0.1:{port}/metrics")
        metrics = dict(
            line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#")
        )
        assert float(metrics["recall_fast_records_total"]) == records
        assert float(metrics['recall_fast_objects_total{outcome="done"}']) == 1
        peak = max(peak, peak_rss(process.pid))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
    print(f"1 GiB object: {records} records, worker peak RSS {peak / 2**20:.0f} MiB")
    assert peak < 400 * 1024 * 1024, f"peak RSS {peak / 2**20:.0f} MiB"
    assert records > 1_000_000
