"""``streamfn scheduler``: a process that promotes due timers and fires due schedules, so work
that waits for a time reaches its stream while no runner is live (scaled to zero, restarting,
crash-looping).

It is a :class:`~streamfn.timekeeping.timekeeper.Timekeeper` of every queue
:func:`~streamfn.timekeeping.known.known_queues` names, re-read every
:data:`KNOWN_INTERVAL`, with its own Redis clock.  Runners run the same timekeeper, and the
scripts make any number of them safe: each timer is promoted once, each planned fire enqueued
once.  Run one (two for redundancy); it holds no state, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisClusterException, RedisError

from streamfn.connection import make_redis
from streamfn.keys import Keys
from streamfn.loop import Periodic
from streamfn.rdb import RDB
from streamfn.settings import Settings
from streamfn.timekeeping.clock import RedisClock
from streamfn.timekeeping.known import known_queues
from streamfn.timekeeping.timekeeper import Timekeeper

log = logging.getLogger("streamfn.scheduler")

KNOWN_INTERVAL = 10.0
"""Seconds between reads of the known queues: a new partition layout is served within this."""


class Scheduler:
    """The scheduler process's parts: a clock, a timekeeper and the known-queues refresher."""

    def __init__(self, settings: Settings) -> None:
        self.keys = Keys.of(settings)
        self.redis = make_redis(settings)
        self.clock = RedisClock(self.redis)
        self.timekeeper = Timekeeper(
            RDB(self.redis, settings),
            self.redis,
            self.keys,
            self.clock,
            max_sleep=settings.promote_interval,
        )
        self.queues: set[str] | None = None
        self._known = Periodic("known-queues", KNOWN_INTERVAL, self._refresh, logger=log)

    async def _refresh(self) -> None:
        queues = await known_queues(self.redis, self.keys)
        if queues != self.queues:
            self.queues = queues
            self.timekeeper.watch(queues)

    async def start(self) -> None:
        """Start the clock, read the known queues once (retried later if Redis is down),
        then the timekeeper."""
        await self.clock.start()
        try:
            await self._refresh()
        except (RedisError, RedisClusterException, OSError) as exc:
            log.warning("cannot read the known queues yet (%s); retrying", exc)
        await self.timekeeper.start()
        await self._known.start()
        log.info(
            "scheduler started: %d tags, %d known queues",
            len(self.timekeeper.tags),
            len(self.queues or ()),
        )

    async def stop(self) -> None:
        await self._known.stop()
        await self.timekeeper.stop()
        await self.clock.stop()
        await self.redis.aclose()
        log.info(
            "scheduler stopped: %d timers promoted, %d planned fires enqueued",
            self.timekeeper.promotion.promoted,
            self.timekeeper.firer.fired,
        )

    async def serve(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set."""
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()
