"""R3: a runner frozen (SIGSTOP) past its lease, resumed, then the other runner killed.

Hard: the frozen runner's late outcomes are refused (fencing), so no stored result is
overwritten and its stale acknowledgements never remove the new owner's delivery; lost = 0
even after the runner that took over is SIGKILLed right after the first one wakes.
"""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Awaitable, Callable

import pytest

from tests.fault.checker import all_succeeded, check, final_statuses
from tests.fault.conftest import MakeStack
from tests.fault.figures import record
from tests.fault.harness import Stack, eventually
from tests.fault.load import Load
from tests.fault.probe import Execution

pytestmark = pytest.mark.fault

JOBS = 200
SLEEP = 5.0
LATE = re.compile(r"(\d+) outcomes arrived after their lease was lost")
LOST_LEASE = re.compile(r"lost the lease on (\d+) entries")


async def test_r3_paused_runner_is_fenced(make_stack: MakeStack) -> None:
    stack = await make_stack()
    stack.probe()
    for _ in range(2):
        stack.start_runner(STREAMFN_CONCURRENCY="300")
    gw = await stack.start_gateway()
    await stack.runners_ready(2)
    async with Load(gw.url) as load:
        await load.many(JOBS, {"sleep": SLEEP})
    acked = load.history.acked

    async def delivered() -> bool:
        return sum((await stack.pending_by_consumer()).values()) == JOBS

    await eventually(delivered, 10, "every invocation delivered")
    pending = await stack.pending_by_consumer()
    frozen_consumer, held = max(pending.items(), key=lambda kv: kv[1])
    frozen = stack.runner_by_pid(stack.pid_of(frozen_consumer))
    other = next(p for p in stack.runners if p is not frozen)
    stack.kill(frozen, signal.SIGSTOP)
    stopped_at = time.monotonic()
    vt = stack.settings.visibility_timeout

    async def taken_over() -> bool:
        return (await stack.pending_by_consumer()).get(frozen_consumer, 0) == 0

    await eventually(taken_over, 4 * vt, "the other runner to reclaim the frozen one's work")
    # Frozen for 3 x VT in all: its handlers' sleeps are over, so it reports at once on waking.
    remaining = 3 * vt - (time.monotonic() - stopped_at)
    if remaining > 0:
        await eventually(_after(remaining), remaining + 1, "3 x VT")
    stack.kill(frozen, signal.SIGCONT)
    await eventually(_after(0.5), 2, "the woken runner to report")
    stack.kill(other, signal.SIGKILL)  # it held the frozen runner's work, still running
    await eventually(
        lambda: all_succeeded(stack.redis, stack.keys, acked), 30, "every invocation to finish"
    )
    runs = stack.executions()
    finals = await final_statuses(stack.redis, stack.keys, acked)
    figures = check(acked, runs, finals)
    first_pid = {e.id: e.pid for e in reversed(runs)}
    held_ids = {inv for inv, pid in first_pid.items() if pid == frozen.pid}
    log = frozen.output()
    late = sum(int(n) for n in LATE.findall(log))
    lost_leases = sum(int(n) for n in LOST_LEASE.findall(log))
    overwritten = await _overwritten(stack, held_ids, frozen.pid, runs)
    record(
        "R3",
        title="runner frozen past its lease, resumed, then the other runner killed",
        fault="SIGSTOP one of 2 runners for 3 x VT, SIGCONT, then SIGKILL the other",
        expectation="late outcomes refused, no result overwritten, lost 0",
        lost=figures["lost"],
        duplicates=figures["duplicates"],
        recovery_s=None,
        held=held,
        late_outcomes_refused=late,
        leases_found_lost=lost_leases,
        results_overwritten=overwritten,
        max_exec_per_id=figures["max_exec_per_id"],
    )
    assert figures["lost"] == 0, figures
    assert late + lost_leases >= held, "every outcome of the frozen runner's old work was refused"
    assert overwritten == 0


def _after(seconds: float) -> Callable[[], Awaitable[bool]]:
    deadline = time.monotonic() + seconds

    async def check() -> bool:
        return time.monotonic() >= deadline

    return check


async def _overwritten(
    stack: Stack, held_ids: set[str], frozen_pid: int, runs: list[Execution]
) -> int:
    """Held ids whose stored result came from the frozen runner's first (stale) execution."""
    bad = 0
    for inv in held_ids:
        raw = await stack.redis.hget(stack.keys.invocation("probe", inv), "result")
        if raw is None:
            continue
        runs_of = [e for e in runs if e.id == inv]
        # The frozen runner's first run ended late (after waking); its result must not be kept
        # unless the frozen runner also ran the id again later (after the other was killed).
        if b'"pid":%d' % frozen_pid in raw and sum(e.pid == frozen_pid for e in runs_of) < 2:
            bad += 1
    return bad
