"""Promoter: move due timers (delayed invocations and retries) into their streams.

One small loop per loaded queue (:mod:`streamfn.partitions`) reads the earliest 100 timers,
passes those due by the Redis-clock estimate (plus 5 ms) to ``promote.lua`` and sleeps until
the next one is due, never longer than ``promote_interval``.  The script decides what is due on
Redis's clock and ZREM decides who promotes, so any number of runners may promote the same
function and each timer still moves exactly once.
"""

from __future__ import annotations

import asyncio
import logging

from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.loop import Loop
from streamfn.rdb import RDB
from streamfn.runner.clock import RedisClock
from streamfn.runner.discovery import Discovery

log = logging.getLogger("streamfn.runner.promoter")

BATCH = 50
"""Timers per promote.lua call: ~10 µs of Redis time each, so ~0.5 ms per call.  A script
holds Redis for its whole run, and on a busy 2-core host a longer one is likelier to be
preempted midway (the bench's "no Lua call over 5 ms" target counts that wall time)."""
EARLY_MS = 5  # also hand over timers this close to due: the script re-checks on Redis TIME


class Promoter(Loop):
    """The timer loop of one queue (``function``: a function's home queue, or a partition)."""

    name = "promoter"
    logger = log

    def __init__(
        self,
        rdb: RDB,
        redis: AnyRedis,
        keys: Keys,
        clock: RedisClock,
        function: str,
        interval: float,
    ) -> None:
        super().__init__(interval)
        self.name = f"promoter[{function}]"
        self.rdb = rdb
        self.redis = redis
        self.clock = clock
        self.function = function
        self.timers = keys.timers(function)
        self.promoted = 0

    async def tick(self) -> float:
        rows: list[tuple[bytes, float]] = await self.redis.zrange(  # type: ignore[assignment]
            self.timers, 0, BATCH - 1, withscores=True
        )
        if not rows:
            return self.interval
        now = self.clock.now_ms()
        due = [member.decode() for member, score in rows if score <= now + EARLY_MS]
        if not due:
            return min(self.interval, max(0.0, (rows[0][1] - now) / 1000))
        result = await self.rdb.promote(self.function, due)
        self.promoted += result.promoted
        if result.orphaned:
            log.warning("%s: %d timers had no record left; removed", self.function, result.orphaned)
        if len(rows) == BATCH and len(due) == BATCH:
            return 0.0  # a full batch: more may be due right now
        if result.next_in_ms < 0:
            return self.interval
        return min(self.interval, max(0.0, result.next_in_ms / 1000))


class Promoters:
    """Starts and stops one :class:`Promoter` per loaded queue as discovery changes."""

    def __init__(
        self,
        rdb: RDB,
        redis: AnyRedis,
        keys: Keys,
        clock: RedisClock,
        discovery: Discovery,
        interval: float,
    ) -> None:
        self.rdb = rdb
        self.redis = redis
        self.keys = keys
        self.clock = clock
        self.discovery = discovery
        self.interval = interval
        self.loops: dict[str, Promoter] = {}
        self._lock = asyncio.Lock()  # syncs triggered by quick successive changes take turns

    async def sync(self) -> None:
        """Match the running loops to the loaded queues."""
        async with self._lock:
            wanted = set(self.discovery.queues)
            for name in sorted(self.loops.keys() - wanted):
                await self.loops.pop(name).stop()
            for name in sorted(wanted - self.loops.keys()):
                loop = Promoter(self.rdb, self.redis, self.keys, self.clock, name, self.interval)
                self.loops[name] = loop
                await loop.start()

    async def stop(self) -> None:
        async with self._lock:
            for name in list(self.loops):
                await self.loops.pop(name).stop()
