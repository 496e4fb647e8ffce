"""Concurrency and memory limits between stages: adaptive request concurrency, byte budgets.

Stage: orchestration. Two limits bound the Elasticsearch sink:

- :class:`ByteBudget` bounds the bulk bytes (and bodies) the sink holds, in flight or waiting to
  retry. Writers wait for room, so a slow Elasticsearch slows decoding and thereby S3 reads
  instead of growing memory.
- :class:`AdaptiveLimiter` bounds the requests in flight with a limit that adapts like Vector's
  adaptive request concurrency (ARC): additive increase while the round-trip time stays at or
  below its running average and the limit was actually reached, multiplicative decrease on back
  pressure (429, 503, timeouts, connection failures) or when the RTT of the last window rises
  above the average by more than ``rtt_deviation_scale`` standard deviations. The averages are
  exponentially weighted (EWMA); the limit is re-evaluated once per window of about one average
  RTT. :class:`ArcController` is the pure decision core (clock passed in), tested without I/O.

Must not import clients, the native extension or sinks.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(slots=True)
class Ewma:
    """Exponentially weighted mean and variance."""

    alpha: float
    mean: float = 0.0
    variance: float = 0.0
    initialised: bool = False

    def update(self, value: float) -> None:
        """Fold in one observation."""
        if not self.initialised:
            self.mean, self.variance, self.initialised = value, 0.0, True
            return
        delta = value - self.mean
        self.mean += self.alpha * delta
        self.variance = (1 - self.alpha) * (self.variance + self.alpha * delta * delta)

    @property
    def stddev(self) -> float:
        """Standard deviation."""
        return math.sqrt(self.variance)


@dataclass(slots=True)
class ArcController:
    """AIMD decisions on RTT for the adaptive limiter (pure: no clock, no I/O).

    Feed every response with :meth:`observe` and the current time; the limit changes at most
    once per window.
    """

    limit: int
    max_limit: int
    min_limit: int = 1
    decrease_ratio: float = 0.9
    rtt_deviation_scale: float = 2.5
    ewma_alpha: float = 0.4
    past_rtt: Ewma | None = None
    window_end: float = 0.0
    window_sum: float = 0.0
    window_count: int = 0
    window_backpressure: bool = False
    window_reached_limit: bool = False

    def __post_init__(self) -> None:
        """Clamp the start limit and create the RTT average."""
        self.limit = max(self.min_limit, min(self.limit, self.max_limit))
        if self.past_rtt is None:
            self.past_rtt = Ewma(self.ewma_alpha)

    def reached_limit(self) -> None:
        """Note that a request had to wait because the limit was reached (demand exceeds it)."""
        self.window_reached_limit = True

    def observe(self, now: float, rtt_s: float, *, backpressure: bool) -> int:
        """Record one response and adjust the limit when the window is over.

        Args:
            now: Current time (monotonic seconds).
            rtt_s: Round-trip time of the request.
            backpressure: The response was a 429/503, a timeout or a connection failure.

        Returns:
            The (possibly new) limit.
        """
        if backpressure:
            self.window_backpressure = True
        else:
            self.window_sum += rtt_s
            self.window_count += 1
        if now >= self.window_end:
            self._adjust()
            assert self.past_rtt is not None
            self.window_end = now + max(self.past_rtt.mean, 0.001)
        return self.limit

    def _adjust(self) -> None:
        """End of a window: apply AIMD and fold the window's mean RTT into the average."""
        assert self.past_rtt is not None
        current = self.window_sum / self.window_count if self.window_count else None
        past = self.past_rtt
        if current is not None and not past.initialised:
            past.update(current)
        threshold = past.mean + self.rtt_deviation_scale * past.stddev
        if (
            self.limit < self.max_limit
            and self.window_reached_limit
            and not self.window_backpressure
            and current is not None
            and current <= past.mean
        ):
            self.limit += 1
        elif self.limit > self.min_limit and (
            self.window_backpressure or (current is not None and current > threshold)
        ):
            self.limit = max(self.min_limit, math.floor(self.limit * self.decrease_ratio))
        if current is not None and not self.window_backpressure:
            past.update(current)
        self.window_sum, self.window_count = 0.0, 0
        self.window_backpressure = self.window_reached_limit = False


class Permit:
    """One request slot; report the outcome with :meth:`done` (RTT) or :meth:`backpressure`."""

    __slots__ = ("_limiter", "_reported", "_start")

    def __init__(self, limiter: AdaptiveLimiter, start: float) -> None:
        self._limiter = limiter
        self._start = start
        self._reported = False

    def done(self) -> float:
        """Report a normal response; returns its RTT."""
        rtt = self._limiter.clock() - self._start
        if not self._reported:
            self._reported = True
            self._limiter.observe(rtt, backpressure=False)
        return rtt

    def backpressure(self) -> float:
        """Report back pressure (429/503, timeout, connection failure); returns the RTT."""
        rtt = self._limiter.clock() - self._start
        if not self._reported:
            self._reported = True
            self._limiter.observe(rtt, backpressure=True)
        return rtt


class AdaptiveLimiter:
    """Bounds requests in flight with a limit chosen by :class:`ArcController`.

    With ``adaptive=False`` the limit stays at ``max_limit`` (a plain semaphore).
    """

    def __init__(
        self,
        *,
        initial: int,
        max_limit: int,
        adaptive: bool = True,
        on_change: Callable[[int, int], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Args: initial: start limit; max_limit: upper bound; adaptive: adapt or not;
        on_change: called with (limit, in flight) on every change (metrics);
        clock: monotonic clock."""
        self._controller = ArcController(
            limit=initial if adaptive else max_limit, max_limit=max_limit
        )
        self._adaptive = adaptive
        self._in_flight = 0
        self._cond = asyncio.Condition()
        self._on_change = on_change
        self.clock = clock

    @property
    def limit(self) -> int:
        """Current limit."""
        return self._controller.limit

    @property
    def in_flight(self) -> int:
        """Requests holding a permit."""
        return self._in_flight

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self._controller.limit, self._in_flight)

    def observe(self, rtt_s: float, *, backpressure: bool) -> None:
        """Feed one response to the controller (called by :class:`Permit`)."""
        if self._adaptive:
            self._controller.observe(self.clock(), rtt_s, backpressure=backpressure)

    @asynccontextmanager
    async def permit(self) -> AsyncIterator[Permit]:
        """Wait for a request slot; the slot is returned on exit.

        Yields:
            The permit; call ``done()`` or ``backpressure()`` when the response is in.
        """
        async with self._cond:
            if self._in_flight >= self._controller.limit:
                self._controller.reached_limit()
                await self._cond.wait_for(lambda: self._in_flight < self._controller.limit)
            self._in_flight += 1
            self._changed()
        permit = Permit(self, self.clock())
        try:
            yield permit
        finally:
            async with self._cond:
                self._in_flight -= 1
                self._changed()
                self._cond.notify_all()


class ByteBudget:
    """Bounds the bytes and items held at once; acquire waits for room.

    An item larger than the whole budget is admitted when nothing else is held, so it cannot
    deadlock.
    """

    def __init__(
        self,
        *,
        max_bytes: int,
        max_items: int,
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        """Args: max_bytes: byte capacity; max_items: item capacity; on_change: called with the
        bytes held after every change (metrics)."""
        self._max_bytes = max_bytes
        self._max_items = max_items
        self._bytes = 0
        self._items = 0
        self._cond = asyncio.Condition()
        self._on_change = on_change

    @property
    def held_bytes(self) -> int:
        """Bytes currently held."""
        return self._bytes

    def _fits(self, n: int) -> bool:
        if self._items == 0:
            return True
        return self._bytes + n <= self._max_bytes and self._items < self._max_items

    async def acquire(self, n: int) -> None:
        """Wait until ``n`` bytes (one item) fit, then take them."""
        async with self._cond:
            await self._cond.wait_for(lambda: self._fits(n))
            self._bytes += n
            self._items += 1
            if self._on_change is not None:
                self._on_change(self._bytes)

    async def release(self, n: int) -> None:
        """Return ``n`` bytes (one item)."""
        async with self._cond:
            self._bytes -= n
            self._items -= 1
            if self._on_change is not None:
                self._on_change(self._bytes)
            self._cond.notify_all()
