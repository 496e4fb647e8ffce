"""An HTTP reverse proxy that adds a fixed delay to chosen requests.

Tests of deadline handling need work that takes *at least* a known time: "this object cannot be
finished in one invocation" must hold on a fast machine too, not only on the loaded one the test
was written on. Delaying every bulk request by a fixed time gives that lower bound (N requests
take at least N x delay) while the node itself stays real.

The proxy runs an aiohttp server on its own event loop in a daemon thread, so it serves callers
that block their own thread (the Lambda handler drives its loop with ``run_until_complete``).
"""

from __future__ import annotations

import asyncio
import threading

import aiohttp
from aiohttp import web

from tests.services.process import Service

#: Headers that describe one hop, not the message; never forwarded.
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


class LatencyProxy(Service):
    """Forwards every request to ``upstream``, holding those whose path contains ``match``.

    Args:
        upstream: Base URL of the real server, e.g. ``http://127.0.0.1:9200``.
        delay_s: Time each matching request is held before it is forwarded.
        match: Substring of the request path that selects the delayed requests.
    """

    def __init__(self, upstream: str, delay_s: float, match: str = "_bulk") -> None:
        self._upstream = upstream.rstrip("/")
        self.delay_s = delay_s
        self._match = match
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port = 0
        self.delayed = 0

    @property
    def url(self) -> str:
        """Base URL clients use instead of the upstream's."""
        return f"http://127.0.0.1:{self._port}"

    async def _handle(self, request: web.Request) -> web.Response:
        assert self._session is not None
        if self._match in request.path:
            self.delayed += 1
            await asyncio.sleep(self.delay_s)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._session.request(
            request.method,
            self._upstream + request.path_qs,
            headers=headers,
            data=await request.read(),
        ) as upstream:
            body = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
            return web.Response(status=upstream.status, headers=out, body=body)

    async def _start(self) -> None:
        # auto_decompress off: bodies pass through byte for byte with their Content-Encoding.
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=1 << 30)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def start(self) -> None:
        """Start serving; returns once the port is bound."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)

    def stop(self) -> None:
        """Stop serving and end the thread."""
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
        self._loop.close()

    def close(self) -> None:
        """Same as `stop()`."""
        self.stop()
