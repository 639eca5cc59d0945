"""Janitor: delete the consumers that gone runners left in each function's group.

Every runner process reads under a fresh consumer name (``<host>-<pid>-<hex>``), so each
restart leaves one consumer behind in every group it read from; left alone, their number
grows with every deploy, crash and autoscaling step.  A sweep runs ``reap_consumers.lua``
for each loaded queue: it deletes consumers that hold no pending entry and have been idle
longer than ``STREAMFN_CONSUMER_IDLE_LIMIT``, never this runner's own.

Why this never loses work:

* A consumer holding pending entries is never deleted.  XGROUP DELCONSUMER would drop its
  entries from the pending list, where no runner could reclaim them; the script checks and
  deletes in one atomic step, so nothing is delivered in between.  A killed runner's entries
  are reclaimed first (after the visibility timeout), and its consumer goes at a sweep
  after that.
* Deleting a live runner's consumer while it holds nothing is harmless.  Nothing refers to
  an empty consumer (fencing checks who holds an entry, the registry uses runner ids), and
  Redis recreates it at its next delivery, even during a blocked XREADGROUP.  It does happen:
  on Redis 7.0 a read that finds nothing does not reset a consumer's idle time, so a live
  runner on a quiet stream looks idle.  A runner holding work keeps it pending, so its
  consumer is never a candidate.

When it sweeps.  Consumers are left behind only when runners go away, so the janitor does not
sweep on a clock.  Every sweep interval (jittered) it reads which runners are live (their
registry reports, one read however many functions) and the shared record of departures
(:mod:`streamfn.departures`: a runner that withdrew, or whose report expired, with when it
was noticed).  Each departure makes it sweep once that runner's consumers can be deleted,
``max(idle limit, visibility timeout + claim interval)`` after it was noticed.  The record is
shared, so this holds even when the runners that noticed a departure are gone before its
time (a crash loop, or a rolling restart quicker than the wait): whichever runners are live
then sweep.  It also sweeps once that long after it starts, for runners that went away
unnoticed before it came up (all of them at once, say, when a fleet scaled to zero).  So an
idle runner sends no script call per function at all, and a gone runner's consumer is deleted
within its report's lifetime (three heartbeats), that wait and two sweep intervals of its
death, while any runner runs (``tests/support/cleanup.py``).  A paused function's entries
are not reclaimed (:mod:`streamfn.runner.pauses`), so a dead runner's consumer holding them
survives those sweeps; a resume schedules one more (:meth:`Janitor.sweep_soon`).  Every
runner sweeps (the script is idempotent); the jitter keeps a fleet from sweeping in step.
"""

from __future__ import annotations

import logging
import random
import time

from streamfn import departures
from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.loop import Loop
from streamfn.rdb import RDB
from streamfn.redis_time import redis_now_ms
from streamfn.registry import read_catalog
from streamfn.runner.discovery import Discovery
from streamfn.runner.metrics import Metrics
from streamfn.settings import Settings

log = logging.getLogger("streamfn.runner.janitor")

CAP = 100  # consumers deleted per script call: bounds one script's run time
MAX_CALLS = 10  # calls per function per sweep; what is left waits for the next sweep
MAX_INTERVAL = 60.0  # seconds between sweeps at most, whatever the idle limit
JITTER = 0.2  # each interval is drawn from interval * [1 - JITTER, 1 + JITTER]


def sweep_interval(settings: Settings) -> float:
    """Half the idle limit (at most a minute): a consumer is never kept much past it."""
    return min(settings.consumer_idle_limit / 2, MAX_INTERVAL)


def reapable_after(settings: Settings) -> float:
    """Seconds after a runner is gone until its consumers can go: idle past the limit, and
    its pending entries reclaimed (visibility timeout plus a claim interval)."""
    return max(settings.consumer_idle_limit, settings.visibility_timeout + settings.claim_interval)


class Janitor(Loop):
    """``reap_consumers.lua`` over the loaded functions, after runners went away."""

    name = "janitor"
    logger = log

    def __init__(
        self,
        rdb: RDB,
        redis: AnyRedis,
        keys: Keys,
        settings: Settings,
        consumer: str,
        discovery: Discovery,
        metrics: Metrics,
        *,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(sweep_interval(settings))
        self.rdb = rdb
        self.redis = redis
        self.keys = keys
        self.consumer = consumer
        self.discovery = discovery
        self.metrics = metrics
        self.idle_limit_ms = int(settings.consumer_idle_limit * 1000)
        self.wait = reapable_after(settings)
        self.rng = rng or random.Random()
        self.sweeps = 0
        self.reaped = 0
        self.started = False
        self.seen: set[str] = set()  # departures already given a sweep
        self.sweep_at: list[float] = []  # monotonic times of the sweeps to come

    def sweep_soon(self, delay: float) -> None:
        """Sweep once ``delay`` seconds from now: after a resume, the consumers of runners
        that died holding the paused function's work can go once the reclaimer took it."""
        self.sweep_at.append(time.monotonic() + delay)
        self.wake()

    def _jitter(self) -> float:
        return self.interval * self.rng.uniform(1 - JITTER, 1 + JITTER)

    async def tick(self) -> float:
        # The catalog read records runners whose report expired as departed.
        await read_catalog(self.redis, self.keys)
        gone = await departures.read(self.redis, self.keys)
        now = time.monotonic()
        if not self.started:  # runners may have gone unnoticed before it came up
            self.started = True
            self.sweep_at.append(now + self.wait + self.rng.uniform(0, self.interval))
        new = {r: at for r, at in gone.items() if r not in self.seen}
        if new:  # sweep once each one's consumers can go
            redis_ms = await redis_now_ms(self.redis)
            for at_ms in set(new.values()):
                due = max(0.0, (at_ms - redis_ms) / 1000 + self.wait)
                self.sweep_at.append(now + due + self.rng.uniform(0, self.interval))
            self.seen.update(new)
        self.seen &= gone.keys()  # trimmed from the record: forget them
        if any(at <= now for at in self.sweep_at):
            self.sweep_at = [at for at in self.sweep_at if at > now]
            await self.sweep()
        soonest = min(self.sweep_at, default=now + self.interval)
        return max(0.0, min(self._jitter(), soonest - time.monotonic()))

    async def sweep(self) -> int:
        """One pass over every loaded queue; returns the consumers deleted."""
        total = 0
        for name in sorted(self.discovery.queues):
            deleted = 0
            for _ in range(MAX_CALLS):
                n = await self.rdb.reap_consumers(name, self.consumer, self.idle_limit_ms, CAP)
                deleted += n
                if n < CAP:
                    break
            if deleted:
                self.metrics.count("consumers_reaped", name, deleted)
                # Routine (quiet live runners' consumers go too): the metric is the record.
                log.debug(
                    "%s: deleted %d consumers holding no work and idle for more than %g s",
                    name,
                    deleted,
                    self.idle_limit_ms / 1000,
                )
            total += deleted
        self.sweeps += 1
        self.reaped += total
        return total
