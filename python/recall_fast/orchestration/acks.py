"""Acknowledgement: deciding an object's outcome and collecting outcomes for a run.

Stage: orchestration. :func:`settle_outcome` is the one place that decides whether an object is
DONE (every document handed to the sink was indexed, dead-lettered or skipped, and nothing
failed), must RETRY, or is REJECTed; the queue source turns that into delete / delay /
dead-letter-queue per message (``sources/sqs.py``). :class:`RunSummary` is the ack handle of a
batch run (``recall-fast ingest``): it adds up outcomes for the JSON summary and the progress
bar.

Must not import clients or the native extension.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from recall_fast.types import ObjectContext, ObjectCounts, Outcome, OutcomeKind

#: Failures listed in a run summary (the counts cover all of them).
MAX_LISTED_FAILURES = 100


def settle_outcome(ctx: ObjectContext) -> Outcome:
    """Decide the outcome of an object whose processing ended without an exception.

    Args:
        ctx: The object's context after its task group finished.

    Returns:
        DONE when every submitted document settled and nothing failed, else RETRY.
    """
    if ctx.failure is not None:
        return Outcome(
            OutcomeKind.RETRY, ctx.ref, ctx.tenant, ctx.counts, ctx.failure, ctx.failure_type
        )
    if ctx.unsettled != 0:
        # Defensive: a sink that lost track of documents must not let the message be deleted.
        reason = f"{ctx.unsettled} documents neither indexed nor dead-lettered"
        return Outcome(OutcomeKind.RETRY, ctx.ref, ctx.tenant, ctx.counts, reason, "unsettled")
    return Outcome(OutcomeKind.DONE, ctx.ref, ctx.tenant, ctx.counts)


@dataclass(slots=True)
class RunSummary:
    """Ack handle of a batch run: totals, outcome counts and the first failures."""

    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)
    totals: ObjectCounts = field(default_factory=ObjectCounts)
    objects: dict[str, int] = field(default_factory=lambda: {k.value: 0 for k in OutcomeKind})
    failures: list[dict[str, str]] = field(default_factory=list)
    tenants: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Start the clock."""
        self.started = self.clock()

    async def settle(self, outcome: Outcome) -> None:
        """Add one object's outcome."""
        self.totals.add(outcome.counts)
        self.objects[outcome.kind.value] += 1
        if outcome.tenant is not None:
            self.tenants[outcome.tenant] = (
                self.tenants.get(outcome.tenant, 0) + outcome.counts.records
            )
        if outcome.kind is not OutcomeKind.DONE and len(self.failures) < MAX_LISTED_FAILURES:
            self.failures.append(
                {
                    "object": outcome.ref.uri,
                    "outcome": outcome.kind.value,
                    "error_type": outcome.error_type,
                    "reason": outcome.reason,
                }
            )

    @property
    def objects_done(self) -> int:
        """Objects settled so far, whatever their outcome."""
        return sum(self.objects.values())

    @property
    def ok(self) -> bool:
        """True when every object is DONE."""
        return self.objects_done == self.objects[OutcomeKind.DONE.value]

    def as_dict(self, **extra: object) -> dict[str, object]:
        """The JSON summary printed at the end of a run.

        Args:
            **extra: Additional top-level fields (sink, destination).

        Returns:
            A JSON-serialisable dict.
        """
        elapsed = max(self.clock() - self.started, 1e-9)
        t = self.totals
        return {
            "ok": self.ok,
            "objects": self.objects_done,
            "objects_by_outcome": dict(self.objects),
            **t.as_dict(),
            "records_by_tenant": dict(sorted(self.tenants.items())),
            "elapsed_s": round(elapsed, 3),
            "mb_per_s": round(t.bytes_in / elapsed / 1e6, 2),
            "records_per_s": round(t.records / elapsed),
            "failures": list(self.failures),
            **extra,
        }
