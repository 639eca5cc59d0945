"""R1: a runner is killed (SIGKILL) holding a quarter of 1,000 invocations in flight.

Hard: lost = 0; duplicates only among what the killed runner held; every held invocation
restarted within visibility timeout + claim interval + 1 s.
"""

from __future__ import annotations

import signal

import pytest

from tests.fault.checker import all_succeeded, check, final_statuses
from tests.fault.conftest import MakeStack
from tests.fault.figures import record
from tests.fault.harness import eventually
from tests.fault.load import Load

pytestmark = pytest.mark.fault

RUNNERS = 4
IN_FLIGHT = 1000
SLEEP = 5.0


async def test_r1_kill_a_runner_with_work_in_flight(make_stack: MakeStack) -> None:
    stack = await make_stack()
    stack.probe()
    for _ in range(RUNNERS):
        stack.start_runner(STREAMFN_CONCURRENCY="600")
    gw = await stack.start_gateway()
    await stack.runners_ready(RUNNERS)
    async with Load(gw.url, concurrency=100) as load:
        await load.many(IN_FLIGHT, {"sleep": SLEEP})
    acked = load.history.acked
    assert len(acked) == IN_FLIGHT, load.history.statuses

    async def all_running() -> bool:
        return sum((await stack.pending_by_consumer()).values()) == IN_FLIGHT

    await eventually(all_running, 15, "every invocation delivered")
    pending = await stack.pending_by_consumer()
    victim_consumer, held = max(pending.items(), key=lambda kv: kv[1])
    victim = stack.runner_by_pid(stack.pid_of(victim_consumer))
    killed_at = stack.kill(victim, signal.SIGKILL)
    await eventually(
        lambda: all_succeeded(stack.redis, stack.keys, acked), 30, "every invocation to finish"
    )
    runs = stack.executions()
    held_ids = {e.id for e in runs if e.pid == victim.pid}
    restarts = [e.start - killed_at for e in runs if e.id in held_ids and e.pid != victim.pid]
    figures = check(acked, runs, await final_statuses(stack.redis, stack.keys, acked))
    first_runs = {e.id: e.pid for e in reversed(runs)}
    dup_ids = {e.id for e in runs if first_runs[e.id] != e.pid}
    bound = stack.settings.visibility_timeout + stack.settings.claim_interval + 1
    record(
        "R1",
        title="runner kill -9 with 1,000 in flight across 4 runners",
        fault=f"SIGKILL the runner holding the most of {IN_FLIGHT} running invocations",
        expectation="lost 0; duplicates only among the killed runner's; "
        "recovery <= VT + claim + 1 s",
        lost=figures["lost"],
        duplicates=figures["duplicates"],
        recovery_s=round(max(restarts, default=0.0), 2),
        held=held,
        first_restart_s=round(min(restarts, default=0.0), 2),
        recovery_bound_s=bound,
        max_exec_per_id=figures["max_exec_per_id"],
    )
    assert figures["lost"] == 0, figures
    assert dup_ids <= held_ids, "a duplicate of work the killed runner did not hold"
    assert figures["duplicates"] <= held
    rerun = {e.id for e in runs if e.id in held_ids and e.pid != victim.pid}
    assert rerun == held_ids, "every held invocation ran again elsewhere"
    assert max(restarts) <= bound, (max(restarts), bound)
