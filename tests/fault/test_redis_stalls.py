"""Redis that stalls or forgets without crashing: D4 (CLIENT PAUSE), script cache flush, D7.

Hard in every case: lost = 0 once Redis serves again, and no 500 (only 202, or 503 while
Redis refuses).  Pause length, latencies and refusal counts are figures.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.fault.checker import all_succeeded, check, final_statuses
from tests.fault.conftest import MakeStack
from tests.fault.figures import record
from tests.fault.harness import Stack, eventually
from tests.fault.load import Load

pytestmark = pytest.mark.fault

RATE = 100.0


async def _stack(make_stack: MakeStack) -> tuple[Stack, str]:
    stack = await make_stack(own_redis=True)
    stack.probe()
    for _ in range(2):
        stack.start_runner()
    gw = await stack.start_gateway()
    await stack.runners_ready(2)
    return stack, gw.url


async def _finish(stack: Stack, load: Load) -> dict[str, object]:
    acked = load.history.acked
    await eventually(
        lambda: all_succeeded(stack.redis, stack.keys, acked), 30, "every acknowledged one"
    )
    return check(acked, stack.executions(), await final_statuses(stack.redis, stack.keys, acked))


async def test_d4_client_pause(make_stack: MakeStack) -> None:
    stack, url = await _stack(make_stack)
    pause_ms = 3000
    async with Load(url) as load:
        traffic = asyncio.create_task(load.steady(RATE, 6, {"sleep": 0.05}))
        await asyncio.sleep(1.5)
        await stack.redis.execute_command("CLIENT", "PAUSE", pause_ms, "ALL")
        await traffic
    figures = await _finish(stack, load)
    record(
        "D4",
        title="Redis stalls: CLIENT PAUSE 3000 ALL under load",
        fault=f"every client paused {pause_ms} ms at t=1.5 s, {RATE:g} invocations/s",
        expectation="no 500; lost 0; requests wait out the pause (socket timeout 5 s)",
        lost=figures["lost"],
        duplicates=figures["duplicates"],
        recovery_s=round(pause_ms / 1000, 1),
        max_latency_s=round(max(load.history.latencies), 2),
        statuses=dict(load.history.statuses),
    )
    assert figures["lost"] == 0, figures
    assert 500 not in load.history.statuses


async def test_script_cache_flushed_under_load(make_stack: MakeStack) -> None:
    stack, url = await _stack(make_stack)
    async with Load(url) as load:
        traffic = asyncio.create_task(load.steady(RATE, 4, {"sleep": 0.05}))
        for _ in range(3):
            await asyncio.sleep(1)
            await stack.redis.script_flush()
        await traffic
    figures = await _finish(stack, load)
    record(
        "D-noscript",
        title="SCRIPT FLUSH three times under load",
        fault="the script cache emptied (as after a restart or failover) every second",
        expectation="every script reloaded on NOSCRIPT: no error at all, lost 0",
        lost=figures["lost"],
        duplicates=figures["duplicates"],
        recovery_s=None,
        statuses=dict(load.history.statuses),
    )
    assert figures["lost"] == 0, figures
    assert set(load.history.statuses) == {202}, load.history.statuses


async def test_d7_out_of_memory(make_stack: MakeStack) -> None:
    stack, url = await _stack(make_stack)
    used = int((await stack.redis.info("memory"))["used_memory"])
    await stack.redis.config_set("maxmemory", used + 512 * 1024)
    padding = {"sleep": 0.05, "pad": "x" * 4096}
    async with Load(url) as load:
        await load.steady(RATE, 3, padding)
        full = dict(load.history.statuses)
        freed = time.monotonic()
        await stack.redis.config_set("maxmemory", 0)
        await load.steady(RATE, 1, padding)
    figures = await _finish(stack, load)
    recovered_s = time.monotonic() - freed
    record(
        "D7",
        title="Redis out of memory (maxmemory, noeviction) under load",
        fault="maxmemory set 512 KB above use, 4 KB payloads at 100/s for 3 s, then lifted",
        expectation="503 while full (never 500); lost 0 once memory is free",
        lost=figures["lost"],
        duplicates=figures["duplicates"],
        recovery_s=round(recovered_s, 2),
        statuses_while_full=full,
        statuses=dict(load.history.statuses),
    )
    assert full.get(503, 0) > 0, "the limit was reached"
    assert 500 not in load.history.statuses, load.history.statuses
    assert figures["lost"] == 0, figures
