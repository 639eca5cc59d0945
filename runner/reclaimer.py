"""Reclaimer: take over entries whose runner went silent for a visibility timeout.

Every ``claim_interval`` the pending list of each loaded queue whose stream holds entries is
swept with ``reclaim.lua`` (XAUTOCLAIM, bounded steps, never more than the free slots).  An
entry delivered more than ``max_deliveries`` times is a poison message (it keeps killing
whoever runs it): it goes to the dead-letter stream without running again.

Only queues in their tag's ``active`` set are swept (an empty stream has nothing pending), and
those sets are read every :func:`active_refresh` seconds, at most half a visibility timeout:
an entry can be claimed only once it has been in its stream for a visibility timeout, so a
read of the sets within that time has seen its queue.  Recovery of a dead runner's work
therefore still takes at most the visibility timeout plus one claim interval, and an idle
runner sends one SMEMBERS per tag per refresh, not one sweep per function per claim interval.

A paused function's queues are not swept (:mod:`streamfn.runner.pauses`): claiming would
start its work.  What a dead runner left pending for it stays there, shown as ``orphaned``
(``GET /functions/{fn}``, ``GET /runners``), and is claimed at the first sweep after it is
resumed (it has been idle past the visibility timeout by then).
"""

from __future__ import annotations

import logging
import time

from streamfn.keys import Keys
from streamfn.loop import Loop
from streamfn.names import function_of
from streamfn.rdb import RDB, Claimed, Completion
from streamfn.runner.completer import Completer
from streamfn.runner.discovery import Discovery
from streamfn.runner.executor import Executor
from streamfn.runner.faults import NO_FAULTS, Faults
from streamfn.runner.handler_import import LoadedFunction
from streamfn.runner.jobs import DONE, Job, Leases
from streamfn.runner.last_chance import LastChances
from streamfn.runner.metrics import Metrics
from streamfn.runner.pauses import Pauses
from streamfn.settings import Settings
from streamfn.stream_stats import active_queues

log = logging.getLogger("streamfn.runner.reclaimer")

MAX_STEPS = 10  # XAUTOCLAIM calls per function per sweep; the next sweep resumes from 0-0
MAX_REFRESH = 10.0  # seconds between reads of the active sets, at most


def active_refresh(settings: Settings) -> float:
    """Seconds between reads of the tags' active sets: within every visibility timeout."""
    return min(MAX_REFRESH, settings.visibility_timeout / 2)


class Reclaimer(Loop):
    """Periodic XAUTOCLAIM sweep over the loaded functions."""

    name = "reclaimer"
    logger = log

    def __init__(
        self,
        rdb: RDB,
        settings: Settings,
        consumer: str,
        discovery: Discovery,
        executor: Executor,
        completer: Completer,
        leases: Leases,
        metrics: Metrics,
        *,
        faults: Faults = NO_FAULTS,
        pauses: Pauses | None = None,
    ) -> None:
        super().__init__(settings.claim_interval)
        self.rdb = rdb
        self.pauses = pauses
        self.faults = faults
        self.consumer = consumer
        self.discovery = discovery
        self.executor = executor
        self.completer = completer
        self.leases = leases
        self.metrics = metrics
        self.min_idle_ms = int(settings.visibility_timeout * 1000)
        self.max_deliveries = settings.max_deliveries
        self.last_chances = LastChances(rdb, self.min_idle_ms, self.max_deliveries)
        self.reclaimed = 0
        self.refresh = active_refresh(settings)
        self.keys: Keys = rdb.keys
        self.active: set[str] = set()  # queues holding entries at the last read
        self._read_at = 0.0  # monotonic: when to read the active sets again

    async def _busy(self) -> list[LoadedFunction]:
        """The loaded queues whose streams held entries at the last read of the sets."""
        queues = self.discovery.queues
        if time.monotonic() >= self._read_at:
            self._read_at = time.monotonic() + self.refresh
            tags = {self.keys.tag(q) for q in queues}
            self.active = await active_queues(self.rdb.redis, self.keys, tags)
        paused = frozenset() if self.pauses is None else self.pauses.names
        return [fn for q, fn in queues.items() if q in self.active and fn.name not in paused]

    async def tick(self) -> None:
        for fn in await self._busy():
            cursor = "0-0"
            for _ in range(MAX_STEPS):
                # The reader may be blocked in a read for these same free slots; what both
                # bring in starts at once (nothing waits in a buffer with a lease running
                # out), so the worst case is one sweep's worth above the concurrency.
                free = self.executor.free
                if free < 1:
                    return
                start, count = await self.last_chances.next_claim(fn.queue, cursor, free)
                if count == 0:
                    break
                swept = await self.rdb.reclaim(
                    fn.queue, self.consumer, self.min_idle_ms, start, count=count
                )
                for claimed in swept.claimed:
                    self._take(fn, claimed)
                if swept.claimed:
                    log.info(
                        "%s: took over %d entries idle for more than %g s (a runner stopped?)",
                        fn.name,
                        len(swept.claimed),
                        self.min_idle_ms / 1000,
                    )
                if swept.deleted:
                    self.metrics.count("reclaim_deleted", fn.name, len(swept.deleted))
                    log.warning(
                        "%s: %d pending entries were deleted from the stream before anyone "
                        "finished them (%s); dropped from the pending list",
                        fn.name,
                        len(swept.deleted),
                        ", ".join(swept.deleted[:5]),
                    )
                cursor = swept.cursor
                if cursor == "0-0":
                    break

    def _take(self, fn: LoadedFunction, claimed: Claimed) -> None:
        if self.leases.get(fn.queue, claimed.entry_id) is not None:
            return  # ours and still running (its heartbeat was late): keep the one we have
        self.reclaimed += 1
        self.metrics.count("reclaims", fn.name)
        if claimed.deliveries > self.max_deliveries:
            self._poison(fn, claimed)
            return
        log.debug(
            "%s: reclaimed entry %s (delivery %d) from a silent runner",
            fn.name,
            claimed.entry_id,
            claimed.deliveries,
        )
        if self.faults.armed:
            self.faults.point("after_claim")
        job = self.executor.submit(fn, claimed.entry_id, claimed.fields)
        self.last_chances.started(job, claimed.deliveries)

    def _poison(self, fn: LoadedFunction, claimed: Claimed) -> None:
        self.metrics.count("poison", fn.name)
        raw = claimed.fields.get(b"id", b"").decode(errors="replace")
        invocation_id = (
            raw if function_of(raw) == fn.name else f"{fn.name}.invalid-{claimed.entry_id}"
        )
        message = (
            f"delivered {claimed.deliveries} times, more than STREAMFN_MAX_DELIVERIES="
            f"{self.max_deliveries}: every runner that took it stopped before finishing "
            "(crash, kill, out of memory?); fix the handler or raise the setting, then replay it"
        )
        log.error("%s: poison message %s: %s", fn.name, invocation_id, message)
        job = Job(fn.queue, claimed.entry_id, fn.is_async)
        job.invocation_id = invocation_id
        job.state = DONE
        self.leases.add(job)
        self.completer.add(
            job,
            Completion(
                fn.queue,
                claimed.entry_id,
                invocation_id,
                0,
                error={"type": "PoisonMessage", "message": message},
                mode="dead",
                dead_letter=True,
            ),
        )
