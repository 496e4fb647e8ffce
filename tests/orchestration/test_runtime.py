"""Runtime pieces: Prometheus endpoint, EMF loop, signals, uvloop runner."""

from __future__ import annotations

import asyncio
import json
import os
import signal

from recall_fast.metrics import EmfEmitter, Metrics, RateLimitedLogger
from recall_fast.orchestration.runtime import (
    emit_emf,
    install_stop_signals,
    make_executor,
    metrics_server,
    run,
)


async def http_get(port: int, path: str) -> tuple[str, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    head, _, body = data.decode().partition("\r\n\r\n")
    return head.splitlines()[0], body


async def test_metrics_endpoint_serves_prometheus_text():
    metrics = Metrics()
    metrics.records.inc(42)
    async with metrics_server(metrics, "127.0.0.1", 0) as port:
        status, body = await http_get(port, "/metrics")
        assert status == "HTTP/1.0 200 OK"
        assert "recall_fast_records_total 42" in body
        status, _ = await http_get(port, "/other")
        assert status.startswith("HTTP/1.0 404")
        # A client that connects and says nothing does not hang the server.
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()
        status, _ = await http_get(port, "/metrics?x=1")
        assert status.endswith("200 OK")


async def test_emf_loop_writes_lines_and_a_last_one_on_cancel():
    lines: list[bytes] = []
    metrics = Metrics()
    task = asyncio.create_task(emit_emf(EmfEmitter(metrics, "ns"), 0.01, lines.append))
    await asyncio.sleep(0.05)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert len(lines) >= 2
    assert json.loads(lines[-1])["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ns"


async def test_stop_signals_set_the_event():
    import logging

    stop = asyncio.Event()
    log = RateLimitedLogger(logging.getLogger("recall_fast.test"), rate_per_s=10, burst=10)
    remove = install_stop_signals(stop, log)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(stop.wait(), 5)
        os.kill(os.getpid(), signal.SIGINT)  # a second signal is only logged
        await asyncio.sleep(0.05)
    finally:
        remove()


def test_run_uses_uvloop_and_executor_threads():
    async def main() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert run(main()).startswith("uvloop")
    assert "asyncio" in run(main(), use_uvloop=False)
    with make_executor(3) as pool:
        assert pool._max_workers == 3
