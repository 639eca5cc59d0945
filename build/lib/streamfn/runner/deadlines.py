"""Timeouts of in-process ``async def`` handlers: one sweep instead of one timer each.

``asyncio.timeout`` per invocation costs a context manager, a timer handle and its
cancellation: ~3 µs, about a tenth of a no-op invocation's whole cost in the runner.  Here an
invocation costs one dict insert and one delete; a sweep every :data:`SWEEP_S` (only while
something is watched) expires the jobs past their deadline, so a timeout fires at most
:data:`SWEEP_S` late.  The sweep is O(running handlers), bounded by the runner's concurrency.

Expiring is the executor's business (it cancels the job's task and records a timeout); this
module only keeps the clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from streamfn.runner.jobs import Job

SWEEP_S = 0.025


class Deadlines:
    """Jobs and the loop time by which each must have finished."""

    def __init__(self, expire: Callable[[Job], None], sweep_s: float = SWEEP_S) -> None:
        self._expire = expire
        self._sweep_s = sweep_s
        self._jobs: dict[Job, float] = {}
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._jobs)

    def watch(self, job: Job, timeout: float, loop: asyncio.AbstractEventLoop) -> None:
        self._jobs[job] = loop.time() + timeout
        if self._timer is None:
            self._timer = loop.call_later(self._sweep_s, self._sweep, loop)

    def forget(self, job: Job) -> None:
        self._jobs.pop(job, None)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        now = loop.time()
        expired = [job for job, deadline in self._jobs.items() if deadline <= now]
        for job in expired:
            del self._jobs[job]
            self._expire(job)
        self._timer = loop.call_later(self._sweep_s, self._sweep, loop) if self._jobs else None

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._jobs.clear()
