"""Process runtime: event loop (uvloop), executor, signals, metrics endpoint, EMF lines.

Stage: orchestration (edge of the process). Everything here is created by an entry point and
passed down; nothing is module-level state. The executor is the pipeline's thread pool for
native calls (they release the GIL), sized by ``decode.threads``.

Must not import clients, sinks or sources.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeVar

from recall_fast.metrics import EmfEmitter, Metrics, RateLimitedLogger

T = TypeVar("T")

_HTTP_READ_TIMEOUT_S: Final = 5.0


def run(main: Coroutine[object, object, T], *, use_uvloop: bool = True) -> T:
    """Run ``main`` on a fresh event loop (uvloop when available and asked for).

    Args:
        main: The coroutine to run.
        use_uvloop: Use uvloop's loop (faster network I/O); falls back to asyncio's.

    Returns:
        What ``main`` returns.
    """
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if use_uvloop:
        try:
            import uvloop

            factory = uvloop.new_event_loop
        except ImportError:
            factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def make_executor(threads: int) -> ThreadPoolExecutor:
    """The pipeline's thread pool for native decode/encode and blocking file I/O.

    Args:
        threads: Worker threads (native calls release the GIL, so one per core is right).

    Returns:
        A new executor; the caller shuts it down.
    """
    return ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="recall-decode")


def install_stop_signals(stop: asyncio.Event, log: RateLimitedLogger) -> Callable[[], None]:
    """Set ``stop`` on SIGTERM or SIGINT (graceful shutdown); return a function undoing it.

    A second signal is logged and otherwise ignored: the shutdown deadline already bounds the
    exit, and dropping held messages early would only delay their redelivery.

    Args:
        stop: Event the worker watches.
        log: Where the signal is reported.

    Returns:
        A callable that removes the handlers.
    """
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            log.warning("runtime.signal_again", "already stopping", signal=name)
            return
        log.info("runtime.stopping", "stopping on signal", signal=name)
        stop.set()

    installed: list[int] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, int(sig))
        installed.append(int(sig))

    def remove() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return remove


@contextlib.asynccontextmanager
async def metrics_server(metrics: Metrics, host: str, port: int) -> AsyncIterator[int]:
    """Serve ``GET /metrics`` in the Prometheus text format while the context is open.

    A minimal HTTP/1.0 responder on ``asyncio.start_server``: one request per connection, a
    read timeout, 404 for other paths. Port 0 picks a free port.

    Args:
        metrics: The registry to expose.
        host: Bind address.
        port: Bind port (0: any free port).

    Yields:
        The bound port.
    """

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(_HTTP_READ_TIMEOUT_S):
                request = await reader.readuntil(b"\r\n\r\n")
            path = request.split(b" ", 2)[1] if request.count(b" ") >= 2 else b""
            if path.split(b"?")[0] == b"/metrics":
                body = metrics.render_prometheus().encode()
                head = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
            else:
                body = b"not found\n"
                head = b"HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n"
            writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            async with asyncio.timeout(_HTTP_READ_TIMEOUT_S):
                await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, port)
    bound: int = server.sockets[0].getsockname()[1]
    try:
        yield bound
    finally:
        server.close()
        await server.wait_closed()


async def emit_emf(emitter: EmfEmitter, interval_s: float, write: Callable[[bytes], None]) -> None:
    """Write one EMF line every ``interval_s`` until cancelled, and a last one on cancel.

    Args:
        emitter: Produces the lines.
        interval_s: Seconds between lines.
        write: Sink of lines (stdout in a container: CloudWatch agent or Lambda picks them up).
    """
    try:
        while True:
            await asyncio.sleep(interval_s)
            write(emitter.line() + b"\n")
    except asyncio.CancelledError:
        write(emitter.line() + b"\n")
        raise
