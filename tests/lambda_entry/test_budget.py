"""The invocation budget: margin clamping, stop time, the watchdog that sets the stop event."""

from __future__ import annotations

import asyncio

import pytest

from recall_fast.lambda_entry.budget import MIN_MARGIN_S, InvocationBudget, stop_when_due


def test_budget_keeps_the_configured_margin_before_the_deadline() -> None:
    budget = InvocationBudget.start(remaining_ms=300_000, margin_s=20.0, now=1000.0)
    assert budget.deadline == pytest.approx(1300.0)
    assert budget.stop_at == pytest.approx(1280.0)
    assert budget.margin_s == 20.0
    assert budget.time_left_s(1270.0) == pytest.approx(10.0)
    assert not budget.expired(1279.9)
    assert budget.expired(1280.0)


def test_margin_is_at_least_the_minimum() -> None:
    budget = InvocationBudget.start(remaining_ms=60_000, margin_s=0.0, now=0.0)
    assert budget.margin_s == MIN_MARGIN_S
    assert budget.stop_at == pytest.approx(60.0 - MIN_MARGIN_S)


def test_a_margin_larger_than_the_invocation_leaves_half_of_it_to_work() -> None:
    # A 20 s margin on a 10 s invocation would leave no time at all; half is kept for work.
    budget = InvocationBudget.start(remaining_ms=10_000, margin_s=20.0, now=5.0)
    assert budget.margin_s == pytest.approx(5.0)
    assert budget.stop_at == pytest.approx(10.0)
    assert budget.deadline == pytest.approx(15.0)


def test_no_time_left_means_stop_at_once() -> None:
    budget = InvocationBudget.start(remaining_ms=-5, margin_s=20.0, now=7.0)
    assert budget.deadline == budget.stop_at == 7.0
    assert budget.expired(7.0)


async def test_watchdog_sets_stop_when_the_clock_reaches_stop_at() -> None:
    budget = InvocationBudget.start(remaining_ms=100_000, margin_s=10.0, now=0.0)
    readings = iter([0.0, 89.99, 90.0])
    stop = asyncio.Event()

    def clock() -> float:
        return next(readings)

    # The first reading is 90 s early: the watchdog sleeps at most a 1 s slice, then re-reads.
    task = asyncio.create_task(stop_when_due(budget, stop, clock))
    await asyncio.wait_for(task, timeout=5.0)
    assert stop.is_set()


async def test_watchdog_returns_when_stop_is_already_set() -> None:
    budget = InvocationBudget.start(remaining_ms=100_000, margin_s=10.0, now=0.0)
    stop = asyncio.Event()
    stop.set()
    await asyncio.wait_for(stop_when_due(budget, stop, lambda: 0.0), timeout=1.0)


async def test_watchdog_can_be_cancelled_when_the_work_ends_first() -> None:
    budget = InvocationBudget.start(remaining_ms=100_000, margin_s=10.0, now=0.0)
    stop = asyncio.Event()
    task = asyncio.create_task(stop_when_due(budget, stop, lambda: 0.0))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not stop.is_set()
