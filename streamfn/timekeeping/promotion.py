"""Promotion: move the due timers (delayed invocations and retries) of some queues into their
streams.

The timekeeper (:mod:`streamfn.timekeeping.timekeeper`) finds which queues have a due timer in
its tags' ``due_timers`` indexes and calls :meth:`Promotion.promote` with them.  For each queue
it reads the earliest timers, passes those due by the Redis-clock estimate (plus 5 ms) to
``promote.lua``, and repeats while full batches were due.  The script decides what is due on
Redis's clock and ZREM decides who promotes, so any number of timekeepers may promote the same
queue and each timer still moves exactly once; it also sets the queue's entry in the index to
the earliest timer left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.rdb import RDB
from streamfn.timekeeping.clock import RedisClock

log = logging.getLogger("streamfn.timekeeping.promotion")

BATCH = 50
"""Timers per promote.lua call: ~10 µs of Redis time each, so ~0.5 ms per call.  A script
holds Redis for its whole run, and on a busy 2-core host a longer one is likelier to be
preempted midway (the bench's "no Lua call over 5 ms" target counts that wall time)."""
EARLY_MS = 5  # also hand over timers this close to due: the script re-checks on Redis TIME
ROUNDS = 20  # batches per queue per call: a backlog of due timers does not hold up the rest
PARALLEL = 16  # queues promoted at once (each a round trip at a time)


class Promotion:
    """Promotes the due timers of the queues it is given; counts what it moved."""

    def __init__(self, rdb: RDB, redis: AnyRedis, keys: Keys, clock: RedisClock) -> None:
        self.rdb = rdb
        self.redis = redis
        self.keys = keys
        self.clock = clock
        self.promoted = 0
        self._gate = asyncio.Semaphore(PARALLEL)

    async def promote(self, queues: Iterable[str]) -> dict[str, float | None]:
        """Promote each queue's due timers; per queue, when to look again (Redis-clock ms
        estimate: now or earlier means more are due at once), None when it has none left."""
        names = sorted(set(queues))
        results = await asyncio.gather(*(self._guarded(q) for q in names))
        return dict(zip(names, results, strict=True))

    async def _guarded(self, queue: str) -> float | None:
        async with self._gate:
            return await self.queue(queue)

    async def queue(self, queue: str) -> float | None:
        """Up to :data:`ROUNDS` batches of ``queue``'s due timers; when to look again."""
        timers = self.keys.timers(queue)
        for _ in range(ROUNDS):
            rows: list[tuple[bytes, float]] = await self.redis.zrange(  # type: ignore[assignment]
                timers, 0, BATCH - 1, withscores=True
            )
            now = self.clock.now_ms()
            due = [member.decode() for member, score in rows if score <= now + EARLY_MS]
            # With none due the call still sets the queue's index entry from the wheel: the
            # index named the queue because another timekeeper was quicker, or because an
            # older release's script left the entry behind.
            result = await self.rdb.promote(queue, due)
            self.promoted += result.promoted
            if result.orphaned:
                log.warning("%s: %d timers had no record left; removed", queue, result.orphaned)
            if result.next_in_ms < 0:
                return None
            if not (len(rows) == BATCH and len(due) == BATCH):
                # next_in_ms is on Redis's clock: > 0 when the estimate ran a little ahead.
                return self.clock.now_ms() + max(0, result.next_in_ms)
        return self.clock.now_ms()  # still a full batch due: the caller comes back at once
