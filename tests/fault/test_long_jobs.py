"""R4: jobs three times longer than the visibility timeout, with and without the heartbeat.

Hard: (a) with the heartbeat on, no entry is ever reclaimed (every delivery count stays 1)
and nothing runs twice.  (b) With the heartbeat switched off (``--no-heartbeat`` of
:mod:`tests.fault.faulty_runner`) the same jobs are reclaimed while they run and some run
twice: the detectors of (a) do see the failure they exist for.
"""

from __future__ import annotations

from typing import Any

import pytest

from streamfn.client import Client
from tests.fault.checker import check, final_statuses
from tests.fault.conftest import MakeStack
from tests.fault.figures import record
from tests.fault.harness import Stack, eventually

pytestmark = pytest.mark.fault

JOBS = 20
FINAL = {"succeeded", "failed", "dead", "cancelled"}


async def _long_jobs(
    make_stack: MakeStack, *, no_heartbeat: bool = False
) -> tuple[Stack, dict[str, Any]]:
    """Runner A (without a heartbeat if asked) holds every job; healthy runner B joins with
    as many free slots.

    A's concurrency equals the number of jobs, so while they run A has no free slot and its
    reclaimer never sweeps: only B can take A's entries, and B would run them again.
    """
    stack = await make_stack()
    stack.probe()
    vt = stack.settings.visibility_timeout
    slots = str(JOBS)
    holder = stack.start_runner(STREAMFN_CONCURRENCY=slots, no_heartbeat=no_heartbeat)
    await stack.runner_ready(holder)
    client = Client(stack.redis, stack.settings)
    ids = await client.enqueue_many("probe", [{"sleep": 3 * vt}] * JOBS)

    async def all_held() -> bool:
        return sum((await stack.pending_by_consumer()).values()) == JOBS

    await eventually(all_held, 10, "runner A to hold every job")
    stack.start_runner(STREAMFN_CONCURRENCY=slots)
    most: dict[str, int] = {}  # entry id -> most deliveries XPENDING showed

    async def all_final() -> bool:
        for entry, times in (await stack.deliveries()).items():
            most[entry] = max(most.get(entry, 0), times)
        statuses = await final_statuses(stack.redis, stack.keys, ids)
        return all(s in FINAL for s in statuses.values())

    await eventually(all_final, 12 * vt, "every job to finish")
    runs = stack.executions()
    finals = await final_statuses(stack.redis, stack.keys, ids)
    figures = check(dict.fromkeys(ids), runs, finals)
    shortest = min((e.end - e.start for e in runs if e.end is not None), default=0.0)
    return stack, {
        "lost": figures["lost"],
        "duplicates": figures["duplicates"],
        "reclaims": sum(n - 1 for n in most.values()),
        "max_deliveries_seen": max(most.values(), default=0),
        "entries_seen": len(most),
        "shortest_run_s": round(shortest, 2),
        "job_s": 3 * vt,
        "vt_s": vt,
        "dead": sum(1 for s in finals.values() if s == "dead"),
    }


async def test_r4_long_jobs_keep_their_lease(make_stack: MakeStack) -> None:
    stack, figures = await _long_jobs(make_stack)
    record(
        "R4",
        title=f"{JOBS} jobs of 3 x VT held by one runner, a second one idle, heartbeat on",
        fault="none: every job outlives the visibility timeout three times",
        expectation="reclaims 0, duplicates 0, every XPENDING delivery count stays 1",
        **figures,
    )
    assert figures["entries_seen"] == JOBS, "every entry was sampled while pending"
    assert figures["shortest_run_s"] >= 3 * stack.settings.visibility_timeout - 0.1
    assert figures["lost"] == 0, figures
    assert figures["reclaims"] == 0, figures
    assert figures["max_deliveries_seen"] == 1, figures
    assert figures["duplicates"] == 0, figures


async def test_r4_without_heartbeat_long_jobs_run_twice(make_stack: MakeStack) -> None:
    _, figures = await _long_jobs(make_stack, no_heartbeat=True)
    record(
        "R4-no-heartbeat",
        title=f"{JOBS} jobs of 3 x VT held by one runner whose heartbeat is off, a second one idle",
        fault="a runner started with --no-heartbeat (test launcher): leases are never renewed",
        expectation="reclaims > 0 and duplicates > 0: the detectors of R4 see the failure",
        **figures,
    )
    assert figures["reclaims"] > 0, figures
    assert figures["duplicates"] > 0, figures
