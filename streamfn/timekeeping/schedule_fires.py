"""Schedule fires: enqueue the planned fires of the due schedules of some functions, exactly
once whatever the number of copies doing the same.

The timekeeper (:mod:`streamfn.timekeeping.timekeeper`) finds which functions have a due
schedule in its tags' ``due_schedules`` indexes and calls :meth:`ScheduleFirer.round` with
them.  A round reads Redis ``TIME`` and those functions' earliest schedules in one pipeline,
plans each due schedule with its misfire policy from a cached definition
(:mod:`streamfn.schedules.due`, pure), and sends the plans, a hundred at a time, to
``schedule_fire.lua``.  The script's compare-and-set on the schedule's score lets exactly one
copy apply each step, so N timekeepers never fire a planned time twice; the others are refused
and move on.  Copies shuffle their due lists so they mostly win different schedules.  The
clock estimate (:class:`~streamfn.timekeeping.clock.RedisClock`) only bounds what is read,
never what is due.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Iterable
from typing import Any

from redis.asyncio import RedisCluster

from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.schedules.due import (
    Cached,
    Due,
    Fired,
    Scan,
    cached_from_hash,
    fire_call,
    horizon,
    scan_due,
)
from streamfn.schedules.firing import GRACE_MS
from streamfn.schedules.ops import FireCall, FireResult, ScheduleRDB
from streamfn.scripts import Reply
from streamfn.timekeeping.clock import RedisClock

log = logging.getLogger("streamfn.timekeeping.schedule_fires")

BATCH = 500  # schedules read per function per round; a full batch of due ones: go again
CHUNK = 100  # schedules planned and fired per round trip
PARALLEL = 4  # chunks in flight at once
_CACHE_MAX = 100_000

Key = tuple[str, str]  # (function, schedule id)


class ScheduleFirer:
    """Fires the due schedules of the functions each :meth:`round` is given."""

    def __init__(
        self,
        redis: AnyRedis,
        keys: Keys,
        clock: RedisClock,
        *,
        grace_ms: int = GRACE_MS,
        on_fire: Callable[[Fired], None] | None = None,
        batch: int = BATCH,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.rdb = ScheduleRDB(redis, keys)
        self.clock = clock
        self.grace_ms = grace_ms
        self.on_fire = on_fire
        self.batch = batch
        self.fired = 0  # planned times this copy enqueued
        self.refused = 0  # steps another copy applied first
        self.moved: set[str] = set()  # functions one of whose schedules the last round moved
        self._cache: dict[Key, Cached] = {}
        self._unreadable: dict[Key, bytes | None] = {}  # -> the rev that failed

    def _estimate_ms(self) -> float | None:
        return self.clock.now_ms() if self.clock.measured else None

    async def round(self, functions: Iterable[str], *, within: float = 0.0) -> Scan:
        """Fire what is due now of ``functions``' schedules.  Reads those due within
        ``within`` seconds too, so the scan's ``soonest`` says when to come back; ``again``
        when a batch was full of due ones (call again at once)."""
        names = sorted(set(functions))
        self.moved = set()
        if not names:
            return Scan([], None, False)
        highest = horizon(self._estimate_ms(), within)
        # TIME rides in the pipeline on one node; redis-py's cluster pipeline refuses it.
        cluster = isinstance(self.redis, RedisCluster)
        if cluster:
            seconds, micros = await self.redis.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            if not cluster:
                pipe.time()
            for fn in names:
                pipe.zrange(
                    self.keys.schedules(fn),
                    "-inf",
                    highest,
                    byscore=True,
                    offset=0,
                    num=self.batch,
                    withscores=True,
                )
            replies: list[Any] = await pipe.execute()
        if not cluster:
            (seconds, micros), replies = replies[0], replies[1:]
        now = int(seconds) * 1000 + int(micros) // 1000
        scan = scan_due(names, replies, now, self.batch)
        if scan.due:
            await self._fire(scan.due, now)
        return scan

    async def _fire(self, due: list[Due], now: int) -> None:
        # Copies see the same due list: a random order makes them mostly win different
        # schedules.  A few chunks in flight at once keep Redis busy while the next is built,
        # without taking more than PARALLEL connections from the pool.
        random.shuffle(due)
        chunks = [due[i : i + CHUNK] for i in range(0, len(due), CHUNK)]
        for i in range(0, len(chunks), PARALLEL):
            await asyncio.gather(*(self._fire_chunk(c, now) for c in chunks[i : i + PARALLEL]))

    async def _fire_chunk(self, chunk: list[Due], now: int) -> None:
        await self._load([(fn, sid) for fn, sid, _ in chunk if (fn, sid) not in self._cache])
        steps = [c for c in (self._plan(d, now) for d in chunk) if c is not None]
        for step, result in zip(steps, await self.rdb.fire_many(steps), strict=True):
            self._report(step, result)

    async def _load(self, wanted: list[Key]) -> None:
        """Read definitions not cached yet; a refused step ("rev", "limit") evicts its entry."""
        if not wanted:
            return
        if len(self._cache) + len(wanted) > _CACHE_MAX:
            self._cache.clear()
        async with self.redis.pipeline(transaction=False) as pipe:
            for fn, sid in wanted:
                pipe.hgetall(self.keys.schedule(fn, sid))
            raws: list[dict[bytes, bytes]] = await pipe.execute()
        for key, raw in zip(wanted, raws, strict=True):
            if raw:  # else deleted: planned as an empty step, which drops the stray entry
                self._cache_one(key, raw)

    def _cache_one(self, key: Key, raw: dict[bytes, bytes]) -> None:
        try:
            self._cache[key] = cached_from_hash(raw)
        except (KeyError, ValueError) as exc:
            if self._unreadable.get(key, b"") != raw.get(b"rev"):
                log.error(
                    "schedule %s of %s is unreadable (%s); fix or delete it", key[1], key[0], exc
                )
            self._unreadable[key] = raw.get(b"rev")
        else:
            self._unreadable.pop(key, None)

    def _plan(self, due: Due, now: int) -> FireCall | None:
        fn, sid, _ = due
        cached = self._cache.get((fn, sid))
        if cached is None and (fn, sid) in self._unreadable:
            return None
        try:
            return fire_call(due, now, cached, self.grace_ms)
        except ValueError as exc:
            log.error("schedule %s of %s cannot be planned (%s); fix or delete it", sid, fn, exc)
            return None

    def _report(self, call: FireCall, result: FireResult | Exception) -> None:
        if isinstance(result, Exception):
            log.warning(
                "schedule %s of %s: fire refused by Redis: %s",
                call.schedule_id,
                call.function,
                result,
            )
        elif not result.ok:
            self._refused(call, result.reason)
        else:
            self._applied(call, result)

    def _refused(self, call: FireCall, reason: str) -> None:
        self.refused += 1
        if reason in (Reply.MOVED, Reply.MISSING):  # fired elsewhere, or a stray removed
            self.moved.add(call.function)
        if reason != Reply.MOVED:  # changed under us: read it again next time
            self._cache.pop((call.function, call.schedule_id), None)
        if reason not in (Reply.MOVED, Reply.MISSING):
            log.debug(
                "schedule %s of %s: step refused (%s); replanning next tick",
                call.schedule_id,
                call.function,
                reason,
            )

    def _applied(self, call: FireCall, result: FireResult) -> None:
        self.moved.add(call.function)
        cached = self._cache.get((call.function, call.schedule_id))
        if cached is not None:
            cached.fire_count = result.fire_count
        self.fired += len(result.fired)
        if self.on_fire is not None:
            for planned in result.fired:
                self.on_fire(Fired(call.function, call.schedule_id, planned, result.now_ms))
