"""An estimate of Redis ``TIME`` from the local clock plus a measured offset.

Used only to decide *when* to ask Redis (promotion and schedule wake-ups, schedule lateness
in metrics); what is due is always decided by the scripts on Redis's own clock.  The offset
is measured at start and every ``interval`` seconds, halving the round trip to cancel the
network delay.
"""

from __future__ import annotations

import logging
import time

from streamfn.connection import AnyRedis
from streamfn.loop import Loop

log = logging.getLogger("streamfn.timekeeping.clock")

REFRESH_INTERVAL = 30.0


class RedisClock(Loop):
    """``now_ms()``: the estimated Redis time in epoch milliseconds."""

    name = "redis-clock"
    logger = log

    def __init__(self, redis: AnyRedis, interval: float = REFRESH_INTERVAL) -> None:
        super().__init__(interval)
        self.redis = redis
        self.offset_ms = 0.0
        self.measured = False  # until the first TIME reply the offset is a guess (0)

    def now_ms(self) -> float:
        return time.time() * 1000 + self.offset_ms

    async def measure(self) -> None:
        """One ``TIME`` round trip; the offset assumes the reply was made mid-way."""
        before = time.time()
        seconds, micros = await self.redis.time()
        after = time.time()
        redis_ms = int(seconds) * 1000 + int(micros) / 1000
        self.offset_ms = redis_ms - (before + after) * 500
        self.measured = True

    async def start(self) -> None:
        try:
            await self.measure()
        except Exception as exc:  # the loop retries; until then assume no offset
            log.warning("could not read Redis TIME (%s); assuming clocks agree for now", exc)
        await super().start()

    async def tick(self) -> None:
        await self.measure()
