"""Janitor: delete the consumers that gone runners left in each function's group.

Every runner process reads under a fresh consumer name (``<host>-<pid>-<hex>``), so each
restart leaves one consumer behind in every group it read from; left alone, their number
grows with every deploy, crash and autoscaling step.  Every sweep interval (jittered) the
janitor runs ``reap_consumers.lua`` for each loaded function: it deletes consumers that hold
no pending entry and have been idle longer than ``STREAMFN_CONSUMER_IDLE_LIMIT``, never this
runner's own.

Why this never loses work:

* A consumer holding pending entries is never deleted.  XGROUP DELCONSUMER would drop its
  entries from the pending list, where no runner could reclaim them; the script checks and
  deletes in one atomic step, so nothing is delivered in between.  A killed runner's entries
  are reclaimed first (after the visibility timeout), and its consumer goes at the next
  sweep after that.
* Deleting a live runner's consumer while it holds nothing is harmless.  Nothing refers to
  an empty consumer (fencing checks who holds an entry, the registry uses runner ids), and
  Redis recreates it at its next delivery, even during a blocked XREADGROUP.  It does happen:
  on Redis 7.0 a read that finds nothing does not reset a consumer's idle time, so a live
  runner on a quiet stream looks idle.  A runner holding work keeps it pending, so its
  consumer is never a candidate.

Every runner sweeps (the script is idempotent), so cleanup goes on while any runner runs;
a random start offset and jitter keep a fleet started together from sweeping in step.  A
gone runner's consumer is deleted within max(idle limit, visibility timeout + claim interval)
plus one (jittered) sweep interval of its death.
"""

from __future__ import annotations

import logging
import random

from streamfn.loop import Loop
from streamfn.rdb import RDB
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


class Janitor(Loop):
    """Periodic ``reap_consumers.lua`` over the loaded functions."""

    name = "janitor"
    logger = log

    def __init__(
        self,
        rdb: RDB,
        settings: Settings,
        consumer: str,
        discovery: Discovery,
        metrics: Metrics,
        *,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(sweep_interval(settings))
        self.rdb = rdb
        self.consumer = consumer
        self.discovery = discovery
        self.metrics = metrics
        self.idle_limit_ms = int(settings.consumer_idle_limit * 1000)
        self.rng = rng or random.Random()
        self.sweeps = 0
        self.reaped = 0
        self._started = False

    async def tick(self) -> float:
        if not self._started:
            self._started = True
            return self.rng.uniform(0, self.interval)
        await self.sweep()
        return self.interval * self.rng.uniform(1 - JITTER, 1 + JITTER)

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
