"""D1: ``kill -9 redis-server`` under load with ``appendonly yes``; D2: the same without AOF.

D1 hard: acknowledged invocations lost = 0; while Redis is down the gateway answers 503
(never 500); gateway and runners reconnect by themselves (same pids, no restarts).
D2 records how much an RDB-less, AOF-less Redis loses, and that the system recovers.
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

RATE = 150.0
BEFORE, DOWN, AFTER = 2.0, 2.0, 2.0


async def _crash_under_load(stack: Stack) -> tuple[Load, float, float]:
    stack.probe()
    for _ in range(2):
        stack.start_runner()
    gw = await stack.start_gateway()
    await stack.runners_ready(2)
    load = Load(gw.url)
    async with load:
        traffic = asyncio.create_task(load.steady(RATE, BEFORE + DOWN + AFTER, {"sleep": 0.05}))
        await asyncio.sleep(BEFORE)
        killed = stack.kill_redis()
        await asyncio.sleep(DOWN)
        restarted = await asyncio.to_thread(stack.restart_redis)
        await traffic
    return load, killed, restarted


def _during(load: Load, start: float, end: float) -> dict[int, int]:
    seen: dict[int, int] = {}
    for t, status in load.history.timeline:
        if start <= t <= end:
            seen[status] = seen.get(status, 0) + 1
    return seen


async def test_d1_redis_killed_with_aof_loses_nothing_acknowledged(make_stack: MakeStack) -> None:
    stack = await make_stack(own_redis=True, appendonly=True)
    load, killed, restarted = await _crash_under_load(stack)
    acked = load.history.acked
    pids = [p.pid for p in stack.runners + stack.gateways]
    await eventually(
        lambda: all_succeeded(stack.redis, stack.keys, acked), 30, "every acknowledged one"
    )
    after = [t for t, s in load.history.timeline if t > restarted and s == 202]
    figures = check(acked, stack.executions(), await final_statuses(stack.redis, stack.keys, acked))
    down = _during(load, killed + 0.1, restarted)
    record(
        "D1",
        title="kill -9 redis-server under load, appendonly yes (everysec)",
        fault=f"SIGKILL Redis at t={BEFORE:g} s under {RATE:g} invocations/s, restart after "
        f"{DOWN:g} s",
        expectation="lost acknowledged 0; 503 (never 500) while down; reconnect without restarts",
        lost=figures["lost"],
        duplicates=figures["duplicates"],
        recovery_s=round(min(after) - restarted, 2) if after else None,
        acked=figures["acked"],
        statuses_while_down=down,
        server_errors=load.history.five_hundreds(),
        unacked_executed=figures["unacked_executed"],
    )
    assert figures["lost"] == 0, figures
    assert 500 not in load.history.statuses, load.history.statuses
    assert set(down) <= {503}, down
    assert all(p.alive() for p in stack.runners + stack.gateways)
    assert [p.pid for p in stack.runners + stack.gateways] == pids
    assert after, "invocations were acknowledged again after the restart"


async def test_d2_redis_killed_without_persistence_is_detected_and_recovers(
    make_stack: MakeStack,
) -> None:
    stack = await make_stack(own_redis=True, appendonly=False)
    load, _, restarted = await _crash_under_load(stack)
    acked = load.history.acked
    late = [i for i, t in load.history.acked_at.items() if t > restarted]
    started = time.monotonic()
    statuses = await final_statuses(stack.redis, stack.keys, acked)
    survivors = [i for i, s in statuses.items() if s is not None]
    # Work acknowledged after the restart must run: the runners recreate their groups.
    await eventually(
        lambda: all_succeeded(stack.redis, stack.keys, survivors), 30, "the survivors to finish"
    )
    healthy_s = time.monotonic() - started
    figures = check(acked, stack.executions(), await final_statuses(stack.redis, stack.keys, acked))
    record(
        "D2",
        title="kill -9 redis-server under load, no persistence",
        fault="as D1 with appendonly no and no snapshots",
        expectation="loss is reported, not prevented; no 500; runners recreate their groups",
        lost=figures["lost"],
        duplicates=figures["duplicates"],
        recovery_s=round(healthy_s, 2),
        acked=figures["acked"],
        acked_after_restart=len(late),
        server_errors=load.history.five_hundreds(),
    )
    assert 500 not in load.history.statuses, load.history.statuses
    assert late and set(late) <= set(survivors), "work acknowledged after the restart runs"
    assert all(p.alive() for p in stack.runners + stack.gateways)
