"""Heartbeat: renew the lease on every entry this runner holds, every VT/3.

``extend.lua`` resets each owned entry's idle time (XCLAIM JUSTID: the delivery count stays),
so a healthy handler running for many visibility timeouts is never reclaimed.  Entries the
script reports lost were reclaimed by another runner (we were paused or cut off): an async
handler is cancelled, a thread cannot be and runs on, and either way its outcome is dropped.
"""

from __future__ import annotations

import asyncio
import logging

from streamfn.loop import Loop
from streamfn.rdb import RDB
from streamfn.runner.faults import NO_FAULTS, Faults
from streamfn.runner.jobs import DONE, LOST, RUNNING, Leases
from streamfn.runner.metrics import Metrics
from streamfn.scripts import Reply

log = logging.getLogger("streamfn.runner.heartbeat")

CHUNK = 500  # entry ids per extend call: bounds the work of one script run


class Heartbeat(Loop):
    """Periodic lease renewal for everything in :class:`Leases`."""

    name = "heartbeat"
    logger = log

    def __init__(
        self,
        rdb: RDB,
        consumer: str,
        leases: Leases,
        metrics: Metrics,
        interval: float,
        *,
        faults: Faults = NO_FAULTS,
    ) -> None:
        super().__init__(interval)
        self.rdb = rdb
        self.faults = faults
        self.consumer = consumer
        self.leases = leases
        self.metrics = metrics
        self.lost = 0

    async def tick(self) -> None:
        if not self.faults.renew_leases:
            return
        calls = []
        for function, jobs in list(self.leases.by_function.items()):
            ids = list(jobs)
            for i in range(0, len(ids), CHUNK):
                calls.append((function, ids[i : i + CHUNK]))
        if not calls:
            return
        results = await asyncio.gather(
            *(self.rdb.extend(function, self.consumer, ids) for function, ids in calls)
        )
        dropped: list[str] = []
        for (function, _), lost in zip(calls, results, strict=True):
            for entry_id in lost:
                if self._lose(function, entry_id):
                    dropped.append(f"{function}/{entry_id}")
        if dropped:  # one line per tick: a paused runner may lose thousands at once
            log.warning(
                "lost the lease on %d entries to another runner (this runner was paused or "
                "cut off?); async handlers cancelled, outcomes dropped: %s",
                len(dropped),
                ", ".join(dropped[:5]) + (", ..." if len(dropped) > 5 else ""),
            )

    def _lose(self, function: str, entry_id: str) -> bool:
        """Stop tracking a lost entry; False when it was ours to finish anyway."""
        job = self.leases.get(function, entry_id)
        # FLUSHING/FINISHED jobs were just reported: the entry is gone because we finished it.
        if job is None or job.state not in (RUNNING, DONE):
            return False
        was_running = job.state == RUNNING
        job.state = LOST
        self.leases.remove(job)
        if was_running and job.is_async and job.task is not None:
            job.task.cancel()
        self.lost += 1
        self.metrics.outcome(function, Reply.STALE)
        return True
