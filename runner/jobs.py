"""Jobs (one delivered stream entry each) and the leases a runner holds on them.

A job is leased from the moment its entry is delivered to this runner until its outcome is
reported (or the lease is lost or handed back).  The heartbeat renews every leased entry, so
an outcome that waits for a slow flush is protected as well as a running handler.

States: RUNNING -> DONE (outcome queued) -> FLUSHING -> FINISHED; or RUNNING/DONE -> LOST
(another runner reclaimed it) or RELEASED (handed back at shutdown).  Plain ``int``
constants rather than an Enum: they are compared on every invocation.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

from streamfn.context import Context
from streamfn.invocation_logs import Sealed

RUNNING = 0
DONE = 1
FLUSHING = 2
FINISHED = 3
LOST = 4
RELEASED = 5


class Job:
    """One delivery: which entry, of which invocation, and the task running it."""

    __slots__ = (
        "ctx",
        "entry_id",
        "function",
        "invocation_id",
        "is_async",
        "leased_at",
        "logs",
        "state",
        "task",
        "tries",
    )

    def __init__(self, function: str, entry_id: str, is_async: bool) -> None:
        self.function = function
        self.entry_id = entry_id
        self.is_async = is_async
        self.leased_at = time.monotonic()  # the oldest lease is reported (GET /runners)
        self.invocation_id = ""
        self.state = RUNNING
        self.task: asyncio.Task[None] | None = None
        self.tries = 0  # flushes Redis refused for this job alone
        self.ctx: Context | None = None  # the handler's, once the entry parsed
        self.logs: Sealed | None = None  # what the attempt logged, to write with its outcome

    def __repr__(self) -> str:
        return f"Job({self.function} {self.entry_id} {self.invocation_id} state={self.state})"


class Leases:
    """Leased jobs by function and entry id (entry ids are unique only within a stream)."""

    def __init__(self) -> None:
        self.by_function: dict[str, dict[str, Job]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, job: Job) -> None:
        jobs = self.by_function.get(job.function)
        if jobs is None:
            jobs = self.by_function[job.function] = {}
        if job.entry_id not in jobs:
            self._count += 1
        jobs[job.entry_id] = job

    def remove(self, job: Job) -> None:
        jobs = self.by_function.get(job.function)
        if jobs is not None and jobs.get(job.entry_id) is job:
            del jobs[job.entry_id]
            self._count -= 1
            if not jobs:
                del self.by_function[job.function]

    def get(self, function: str, entry_id: str) -> Job | None:
        jobs = self.by_function.get(function)
        return None if jobs is None else jobs.get(entry_id)

    def oldest(self) -> Job | None:
        """The job leased longest ago.  Each function's dict keeps delivery order, so only
        its first job is a candidate: O(functions), read once per report."""
        firsts = (next(iter(jobs.values())) for jobs in self.by_function.values() if jobs)
        return min(firsts, key=lambda job: job.leased_at, default=None)

    def __iter__(self) -> Iterator[Job]:
        for jobs in list(self.by_function.values()):
            yield from list(jobs.values())
