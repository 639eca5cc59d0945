"""Deadlines: jobs expire once past their timeout, within one sweep; finished ones never do."""

from __future__ import annotations

import asyncio

from streamfn.runner.deadlines import Deadlines
from streamfn.runner.jobs import Job


async def test_expires_after_the_deadline_and_stops_sweeping() -> None:
    loop = asyncio.get_running_loop()
    expired: list[tuple[Job, float]] = []
    deadlines = Deadlines(lambda job: expired.append((job, loop.time())), sweep_s=0.01)
    slow, quick, done = Job("f", "1-0", True), Job("f", "2-0", True), Job("f", "3-0", True)
    start = loop.time()
    deadlines.watch(slow, 0.2, loop)
    deadlines.watch(quick, 0.05, loop)
    deadlines.watch(done, 0.05, loop)
    deadlines.forget(done)  # finished in time
    await asyncio.sleep(0.3)
    assert [job for job, _ in expired] == [quick, slow]
    quick_at, slow_at = (at - start for _, at in expired)
    assert 0.05 <= quick_at < 0.05 + 0.01 + 0.05  # one sweep late at most (+ loop slack)
    assert 0.2 <= slow_at < 0.2 + 0.01 + 0.05
    assert len(deadlines) == 0
    assert deadlines._timer is None  # nothing watched: no wake-ups


async def test_close_cancels_the_sweep() -> None:
    loop = asyncio.get_running_loop()
    expired: list[Job] = []
    deadlines = Deadlines(expired.append, sweep_s=0.01)
    deadlines.watch(Job("f", "1-0", True), 0.02, loop)
    deadlines.close()
    await asyncio.sleep(0.05)
    assert expired == []
