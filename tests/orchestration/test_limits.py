"""Adaptive concurrency (ARC-style AIMD) and byte budgets."""

from __future__ import annotations

import asyncio

from recall_fast.orchestration.limits import AdaptiveLimiter, ArcController, ByteBudget, Ewma


def run_windows(controller: ArcController, rtts: list[float], *, backpressure=False, reached=True):
    now = controller.window_end
    for rtt in rtts:
        if reached:
            controller.reached_limit()
        now += rtt
        controller.observe(now, rtt, backpressure=backpressure)
    return controller.limit


def test_ewma():
    e = Ewma(0.5)
    e.update(1.0)
    assert (e.mean, e.stddev) == (1.0, 0.0)
    e.update(3.0)
    assert e.mean == 2.0
    assert e.stddev > 0


def test_grows_while_latency_is_stable_and_limit_is_reached():
    c = ArcController(limit=1, max_limit=8)
    limit = run_windows(c, [0.1] * 200)
    assert limit == 8


def test_does_not_grow_without_demand():
    c = ArcController(limit=2, max_limit=8)
    assert run_windows(c, [0.1] * 200, reached=False) == 2


def test_backs_off_on_backpressure():
    c = ArcController(limit=8, max_limit=8)
    run_windows(c, [0.1] * 10)
    limit = run_windows(c, [0.1] * 30, backpressure=True)
    assert limit == 1


def test_backs_off_when_latency_rises():
    c = ArcController(limit=8, max_limit=8)
    run_windows(c, [0.1] * 50)
    before = c.limit
    run_windows(c, [1.0, 2.0, 4.0])
    assert c.limit < before


def test_never_below_min_or_above_max():
    c = ArcController(limit=50, max_limit=4)
    assert c.limit == 4
    run_windows(c, [0.1] * 50, backpressure=True)
    assert c.limit == 1


async def test_limiter_bounds_concurrency():
    limiter = AdaptiveLimiter(initial=3, max_limit=3, adaptive=False)
    active = 0
    peak = 0

    async def task():
        nonlocal active, peak
        async with limiter.permit() as permit:
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.001)
            active -= 1
            permit.done()

    async with asyncio.TaskGroup() as group:
        for _ in range(20):
            group.create_task(task())
    assert peak == 3
    assert limiter.in_flight == 0


async def test_limiter_reports_changes():
    seen = []
    limiter = AdaptiveLimiter(
        initial=1, max_limit=4, on_change=lambda lim, n: seen.append((lim, n))
    )
    async with limiter.permit() as permit:
        permit.backpressure()
        permit.done()  # second report is ignored
    assert seen[0] == (1, 1)
    assert seen[-1][1] == 0


async def test_byte_budget_blocks_until_released():
    held = []
    budget = ByteBudget(max_bytes=100, max_items=10, on_change=held.append)
    await budget.acquire(60)
    waiter = asyncio.create_task(budget.acquire(60))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    await budget.release(60)
    await asyncio.wait_for(waiter, 1)
    assert budget.held_bytes == 60
    await budget.release(60)
    assert held[-1] == 0


async def test_byte_budget_admits_oversized_item_alone():
    budget = ByteBudget(max_bytes=10, max_items=10)
    await asyncio.wait_for(budget.acquire(1000), 1)
    assert budget.held_bytes == 1000


async def test_byte_budget_item_limit():
    budget = ByteBudget(max_bytes=10**9, max_items=2)
    await budget.acquire(1)
    await budget.acquire(1)
    waiter = asyncio.create_task(budget.acquire(1))
    await asyncio.sleep(0.01)
    assert not waiter.done()
    await budget.release(1)
    await asyncio.wait_for(waiter, 1)
