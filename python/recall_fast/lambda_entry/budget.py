"""Time budget of one Lambda invocation: when to stop taking work, when to checkpoint.

Stage: edge (Lambda entry). A Lambda is killed at its deadline with no chance to clean up; the
old pipeline lost whole minute-files that way at peak. So the handler reads the deadline from
the context once per invocation and keeps a safety margin before it: at ``stop_at`` it stops
feeding input, lets everything already decoded settle in the sink, and hands the rest of each
unfinished object on as a continuation message. The margin must cover that flush (one bulk
round trip per in-flight chunk, bounded by the sink's request timeout) plus the SQS calls;
20 s is the template's default.

Everything here is pure or works on an injected clock, so the deadline logic is tested without
sleeping. Must not import clients, the native extension or the pipeline (cold-start path).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

#: Never plan with less margin than this, whatever the configuration says: the SQS calls that
#: settle the batch alone take a few hundred milliseconds.
MIN_MARGIN_S = 1.0


class LambdaContext(Protocol):
    """The part of the Lambda context object the handler uses (structural type)."""

    @property
    def aws_request_id(self) -> str:
        """The invocation's request id (log correlation)."""
        ...

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until the runtime kills the invocation."""
        ...


@dataclass(frozen=True, slots=True)
class InvocationBudget:
    """The deadline of one invocation, in event-loop time.

    Attributes:
        deadline: Loop time at which Lambda kills the invocation.
        stop_at: Loop time at which the handler stops taking work (deadline minus margin).
        margin_s: The margin actually applied (the configured one, clamped to the invocation).
    """

    deadline: float
    stop_at: float
    margin_s: float

    @classmethod
    def start(cls, remaining_ms: int, margin_s: float, now: float) -> InvocationBudget:
        """Budget an invocation that has ``remaining_ms`` left at loop time ``now``.

        The margin is at least :data:`MIN_MARGIN_S` and at most half the remaining time, so a
        misconfigured margin larger than the function's timeout still leaves the invocation
        half of its time to work instead of none.

        Args:
            remaining_ms: ``context.get_remaining_time_in_millis()`` at the start.
            margin_s: Configured safety margin (``aws_lambda.deadline_margin_s``).
            now: Current loop time (``loop.time()``).

        Returns:
            The budget.
        """
        remaining_s = max(remaining_ms, 0) / 1000.0
        margin = min(max(margin_s, MIN_MARGIN_S), remaining_s / 2)
        return cls(deadline=now + remaining_s, stop_at=now + remaining_s - margin, margin_s=margin)

    def time_left_s(self, now: float) -> float:
        """Seconds until ``stop_at`` (negative once passed)."""
        return self.stop_at - now

    def expired(self, now: float) -> bool:
        """True once new work must not start."""
        return now >= self.stop_at


async def stop_when_due(
    budget: InvocationBudget,
    stop: asyncio.Event,
    clock: Callable[[], float] | None = None,
) -> None:
    """Set ``stop`` at ``budget.stop_at`` (run as a task; cancel it when the work ends first).

    Args:
        budget: The invocation's budget.
        stop: Event the pipeline watches between chunks.
        clock: Loop time source (the running loop's ``time`` by default).
    """
    now = clock or asyncio.get_running_loop().time
    while not stop.is_set():
        left = budget.time_left_s(now())
        if left <= 0:
            stop.set()
            return
        # Sleep in slices: loop time is monotonic, but a frozen-and-thawed Lambda sandbox is
        # re-checked at least once a second rather than trusting one long timer.
        await asyncio.sleep(min(left, 1.0))
