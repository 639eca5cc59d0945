"""D8: one runner cut off from Redis (a black-holing proxy) for 3 x VT, then healed; R2:
a graceful SIGTERM hands running work back at once.

D8 hard: the cut-off runner's work is reclaimed by the other, its late outcomes are fenced,
lost = 0.  R2 hard: lost = 0 and no invocation waits a visibility timeout to be restarted.
"""

from __future__ import annotations

import asyncio
import signal
import time
from urllib.parse import urlparse

import pytest

from tests.fault.checker import all_succeeded, check, final_statuses
from tests.fault.conftest import MakeStack
from tests.fault.figures import record
from tests.fault.harness import eventually
from tests.fault.load import Load
from tests.fault.proxy import Proxy

pytestmark = pytest.mark.fault

JOBS = 200


async def test_d8_runner_partitioned_from_redis(make_stack: MakeStack) -> None:
    stack = await make_stack()
    stack.probe()
    proxy = Proxy(urlparse(stack.settings.redis_url).port or 6379)
    await proxy.start()
    try:
        cut = stack.start_runner(STREAMFN_REDIS_URL=proxy.url, STREAMFN_CONCURRENCY="300")
        stack.start_runner(STREAMFN_CONCURRENCY="300")
        gw = await stack.start_gateway()
        await stack.runners_ready(2)
        async with Load(gw.url) as load:
            await load.many(JOBS, {"sleep": 3.0})
        acked = load.history.acked

        async def cut_holds_work() -> bool:
            pending = await stack.pending_by_consumer()
            return any(stack.pid_of(c) == cut.pid and n > 0 for c, n in pending.items())

        await eventually(cut_holds_work, 10, "the cut-off runner to hold work")
        proxy.blackhole()
        cut_at = time.monotonic()
        await asyncio.sleep(3 * stack.settings.visibility_timeout)
        proxy.heal()
        await eventually(
            lambda: all_succeeded(stack.redis, stack.keys, acked), 30, "every invocation"
        )
        done_s = time.monotonic() - cut_at
    finally:
        await proxy.close()
    figures = check(acked, stack.executions(), await final_statuses(stack.redis, stack.keys, acked))
    held = len({e.id for e in stack.executions() if e.pid == cut.pid})
    record(
        "D8",
        title="one runner partitioned from Redis for 3 x VT, then healed",
        fault="a proxy between runner and Redis stops forwarding, then resumes",
        expectation="its work reclaimed by the other runner, late outcomes fenced, lost 0",
        lost=figures["lost"],
        duplicates=figures["duplicates"],
        recovery_s=round(done_s, 2),
        held=held,
        max_exec_per_id=figures["max_exec_per_id"],
        cut_runner_alive=cut.alive(),
    )
    assert figures["lost"] == 0, figures
    assert cut.alive(), "the cut-off runner reconnected by itself"


async def test_r2_sigterm_hands_work_back(make_stack: MakeStack) -> None:
    stack = await make_stack()
    stack.probe()
    env = {"STREAMFN_SHUTDOWN_GRACE": "1", "STREAMFN_CONCURRENCY": "300"}
    leaving = stack.start_runner(**env)
    gw = await stack.start_gateway()
    await stack.runners_ready(1)
    async with Load(gw.url) as load:
        await load.many(JOBS, {"sleep": 2.5})
    acked = load.history.acked

    async def delivered() -> bool:
        return sum((await stack.pending_by_consumer()).values()) == JOBS

    await eventually(delivered, 10, "every invocation delivered")
    stack.start_runner(**env)
    await stack.runners_ready(2)
    termed = stack.kill(leaving, signal.SIGTERM)
    await eventually(lambda: all_succeeded(stack.redis, stack.keys, acked), 30, "every invocation")
    runs = stack.executions()
    restarts = [e.start - termed for e in runs if e.pid != leaving.pid]
    figures = check(acked, runs, await final_statuses(stack.redis, stack.keys, acked))
    exit_code = leaving.popen.wait(10)
    record(
        "R2",
        title="graceful SIGTERM of a runner holding 200 running invocations",
        fault="SIGTERM with STREAMFN_SHUTDOWN_GRACE=1 while its handlers need 2.5 s",
        expectation="unfinished work handed back at once (no wait for VT); lost 0; exit 0",
        lost=figures["lost"],
        duplicates=figures["duplicates"],
        recovery_s=round(max(restarts, default=0.0), 2),
        first_restart_s=round(min(restarts, default=0.0), 2),
        exit_code=exit_code,
    )
    assert figures["lost"] == 0, figures
    assert exit_code == 0
    assert max(restarts) < stack.settings.visibility_timeout + 1.5, max(restarts)
