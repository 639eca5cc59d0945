"""M3: runner churn; the consumers gone runners leave behind are cleaned up, and no work is lost.

Three runners serve steady traffic while the oldest is replaced again and again by a fresh
process (a fresh consumer name, as a container restart gives): every other one is SIGKILLed
while it holds running invocations, the rest stopped with SIGTERM.

Hard: lost = 0; no consumer of a gone runner outlives its runner by more than
``cleanup_bound`` (plus the shutdown grace for SIGTERM, plus 1 s of slack); after the last
restart the group returns to the live runners' consumers only, within that bound.
Duplicates only among invocations a stopped runner had started (killed, or handed back
at SIGTERM).  Fast tier: 50 restarts (about 25 s); soak: 200.

The runners' ``STREAMFN_MAX_DELIVERIES`` is above the number of kills: the scenario kills
runners holding work on purpose, one every ~0.7 s, and the runner that reclaims a killed
one's entries may be the next one killed.  At the default (5) an entry taken by five killed
runners in turn is dead-lettered as poison, which is the setting doing its job, not a loss
this scenario is about.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from streamfn.keys import GROUP
from streamfn.launch import Child
from tests.fault.checker import all_succeeded, check, final_statuses
from tests.fault.conftest import MakeStack
from tests.fault.figures import record
from tests.fault.harness import Stack, eventually
from tests.fault.load import Load
from tests.support.cleanup import cleanup_bound

pytestmark = pytest.mark.fault

LIVE = 3
IDLE_LIMIT = 1.0  # STREAMFN_CONSUMER_IDLE_LIMIT for the runners, seconds
RATE = 50.0  # invocations per second while runners churn
SLEEP = 0.3  # seconds each invocation runs: a runner always holds some
SAMPLE = 0.2  # seconds between looks at the group's consumers
SLACK = 1.0  # seconds of scheduling slack on a busy 2-core machine
ENV = {
    "STREAMFN_CONSUMER_IDLE_LIMIT": str(IDLE_LIMIT),
    "STREAMFN_CONCURRENCY": "100",
    "STREAMFN_MAX_DELIVERIES": "1000",  # above any run's kills (see the docstring)
}


@dataclass
class Churn:
    """What the scenario did and saw: when each runner was stopped, and the consumers."""

    stopped: dict[int, tuple[float, bool]] = field(default_factory=dict)  # pid: (at, killed)
    held_at_kill: int = 0
    peak_consumers: int = 0
    oldest_gone_s: float = 0.0  # the longest a gone runner's consumer was seen after it
    late: list[tuple[str, float, float]] = field(default_factory=list)  # (name, age, allowed)


async def _consumers(stack: Stack) -> list[str]:
    rows: Any = await stack.redis.xinfo_consumers(stack.keys.stream("probe"), GROUP)
    return [r["name"].decode() for r in rows]


def _allowed(churn: Churn, pid: int, bound: float, grace: float) -> float:
    _, killed = churn.stopped[pid]
    return bound + (0.0 if killed else grace) + SLACK


async def _watch(stack: Stack, churn: Churn, bound: float, done: asyncio.Event) -> None:
    """Sample the group until ``done``: its size, and how long gone runners' consumers stay."""
    grace = stack.settings.shutdown_grace
    while not done.is_set():
        names = await _consumers(stack)
        now = time.time()
        churn.peak_consumers = max(churn.peak_consumers, len(names))
        for name in names:
            pid = stack.pid_of(name)
            if pid in churn.stopped:
                age = now - churn.stopped[pid][0]
                churn.oldest_gone_s = max(churn.oldest_gone_s, age)
                if age > _allowed(churn, pid, bound, grace):
                    churn.late.append((name, round(age, 2), _allowed(churn, pid, bound, grace)))
        await asyncio.sleep(SAMPLE)


async def _traffic(load: Load, done: asyncio.Event, limit: float) -> None:
    """About RATE invocations per second until ``done`` (or ``limit`` seconds)."""
    tasks: list[asyncio.Task[str | None]] = []
    end = time.monotonic() + limit
    while not done.is_set() and time.monotonic() < end:
        tasks.append(asyncio.create_task(load.invoke({"sleep": SLEEP})))
        await asyncio.sleep(1 / RATE)
    await asyncio.gather(*tasks)


async def _ready(stack: Stack, proc: Child) -> None:
    """Until ``proc`` has published a report with the probe loaded (so it reads the stream)."""

    async def reported() -> bool:
        members: Any = await stack.redis.smembers(stack.keys.runners)
        ids = [i.decode() for i in members]
        mine = [i for i in ids if stack.pid_of(i) == proc.pid]
        if not mine:
            return False
        raw = await stack.redis.get(stack.keys.runner(mine[0]))
        return raw is not None and b"probe" in raw

    await eventually(reported, 20, f"runner {proc.pid} to be ready ({proc.output()[-500:]})")


async def _held(stack: Stack, proc: Child) -> int:
    """Pending entries of ``proc``'s consumer, once it holds at least one."""
    held = 0

    async def holding() -> bool:
        nonlocal held
        pending = await stack.pending_by_consumer()
        held = sum(n for name, n in pending.items() if stack.pid_of(name) == proc.pid)
        return held > 0

    await eventually(holding, 10, f"runner {proc.pid} to hold running work")
    return held


async def _restart(stack: Stack, churn: Churn, live: list[Child], kill: bool) -> None:
    """Start a fresh runner, then stop the oldest: SIGKILL holding work, or SIGTERM."""
    victim = live.pop(0)
    fresh = stack.start_runner(**ENV)
    await _ready(stack, fresh)
    live.append(fresh)
    if kill:
        churn.held_at_kill += await _held(stack, victim)
    churn.stopped[victim.pid] = (
        stack.kill(victim, signal.SIGKILL if kill else signal.SIGTERM),
        kill,
    )


async def _churn(make_stack: MakeStack, restarts: int, tier: str) -> None:
    stack = await make_stack()
    stack.probe()
    live = [stack.start_runner(**ENV) for _ in range(LIVE)]
    gw = await stack.start_gateway()
    await stack.runners_ready(LIVE)
    use = replace(stack.settings, consumer_idle_limit=IDLE_LIMIT)
    bound = cleanup_bound(use)
    churn = Churn()
    done = asyncio.Event()
    started = time.monotonic()
    async with Load(gw.url, concurrency=64) as load:
        traffic = asyncio.create_task(_traffic(load, done, limit=restarts * 10 + 30))
        watcher = asyncio.create_task(_watch(stack, churn, bound, done))
        try:
            for i in range(restarts):
                await _restart(stack, churn, live, kill=i % 2 == 0)
        finally:
            done.set()
            await traffic
            await watcher
    churn_s = time.monotonic() - started
    last_fault = max(at for at, _ in churn.stopped.values())
    live_pids = {p.pid for p in live}

    async def only_live() -> bool:
        return all(stack.pid_of(n) in live_pids for n in await _consumers(stack))

    with contextlib.suppress(AssertionError):  # recorded below, then asserted
        await eventually(only_live, bound + stack.settings.shutdown_grace + 10, "gone consumers")
    cleanup_s = time.time() - last_fault
    final = await _consumers(stack)
    gone_left = [n for n in final if stack.pid_of(n) not in live_pids]
    acked = load.history.acked
    with contextlib.suppress(AssertionError):  # lost counts what did not finish
        await eventually(
            lambda: all_succeeded(stack.redis, stack.keys, acked), 60, "every invocation to finish"
        )
    runs = stack.executions()
    figures = check(acked, runs, await final_statuses(stack.redis, stack.keys, acked))
    first_pid = {e.id: e.pid for e in reversed(runs)}
    duplicated = {e.id for e in runs if e.pid != first_pid[e.id]}
    kills = sum(1 for _, killed in churn.stopped.values() if killed)
    record(
        "M3",
        title=f"{restarts} runner restarts with fresh consumer names under steady traffic",
        fault=f"replace the oldest of {LIVE} runners {restarts} times at {RATE:g}/s: "
        f"{kills} by SIGKILL holding work, {restarts - kills} by SIGTERM",
        expectation="lost 0; a gone runner's consumer deleted within the cleanup bound; "
        "the group back to the live runners' consumers",
        tier=tier,
        lost=figures["lost"],
        duplicates=figures["duplicates"],
        recovery_s=round(cleanup_s, 2),
        acked=figures["acked"],
        restarts=restarts,
        held_at_kills=churn.held_at_kill,
        peak_consumers=churn.peak_consumers,
        final_consumers=len(final),
        gone_consumers_left=len(gone_left),
        live_runners=LIVE,
        oldest_gone_consumer_s=round(churn.oldest_gone_s, 2),
        cleanup_bound_s=round(bound, 2),
        idle_limit_s=IDLE_LIMIT,
        churn_s=round(churn_s, 1),
    )
    assert figures["lost"] == 0, figures
    assert all(first_pid[i] in churn.stopped for i in duplicated), "a duplicate not lease-lost"
    assert gone_left == [], "consumers of gone runners never deleted"
    assert churn.late == [], "consumers of gone runners kept past the bound"
    assert len(final) <= LIVE, final
    assert cleanup_s <= bound + stack.settings.shutdown_grace + SLACK, (cleanup_s, bound)
    assert churn.peak_consumers < LIVE + restarts, "the count grew with every restart"


async def test_m3_runner_churn_cleans_up_consumers(make_stack: MakeStack) -> None:
    await _churn(make_stack, 50, "fast")


@pytest.mark.soak
async def test_m3_runner_churn_cleans_up_consumers_soak(make_stack: MakeStack) -> None:
    await _churn(make_stack, 200, "soak")
