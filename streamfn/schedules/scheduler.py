"""Scheduler: fire due schedules of the functions a process knows; run as many copies as you like.

Each tick reads Redis ``TIME`` and the earliest schedules of every function in one pipeline,
plans each due schedule with its misfire policy (:mod:`.firing`) from a cached definition, and
sends the plans, a hundred at a time, to ``schedule_fire.lua``.  The script's compare-and-set
on the schedule's score lets exactly one copy apply each step, so N schedulers (runners and
gateways alike) never fire a planned time twice; the others are refused and move on.  Copies
shuffle their due lists so they mostly win different schedules.  The loop sleeps until the
next schedule is due by its estimate of Redis time, never longer than ``max_sleep``; the
estimate only decides when to ask, never what is due.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from streamfn.keys import Keys
from streamfn.schedules.definition import Misfire
from streamfn.schedules.firing import GRACE_MS, plan
from streamfn.schedules.rdb import FireCall, FireResult, ScheduleRDB
from streamfn.schedules.schedule import misfire_from_hash, spec_from_hash
from streamfn.schedules.spec import Spec
from streamfn.scripts import Reply
from streamfn.tasks import cancel_and_wait

log = logging.getLogger("streamfn.schedules")

BATCH = 500  # schedules read per function per tick; a full batch of due ones means tick again
HORIZON_MS = 100  # read schedules due this soon too, to sleep exactly until the first of them
CHUNK = 100  # schedules planned and fired per round trip
PARALLEL = 4  # chunks in flight at once
_CACHE_MAX = 100_000


@dataclass(frozen=True, slots=True)
class Fired:
    """One planned time enqueued by this scheduler, for metrics (e.g. a lateness histogram)."""

    function: str
    schedule_id: str
    planned_ms: int
    fired_ms: int  # Redis time of the enqueue

    @property
    def lateness(self) -> float:
        """Seconds from the planned time to the enqueue (never negative)."""
        return (self.fired_ms - self.planned_ms) / 1000


@dataclass(slots=True)
class _Cached:
    """A schedule's definition as last read, and its fire count as this copy last saw it.

    A stale count only matters for ``limit``, and the script refuses a step past the limit
    (the entry is then read again), so it never causes a wrong fire."""

    rev: str
    spec: Spec
    misfire: Misfire
    fire_count: int


class Scheduler:
    """The schedule loop for the functions ``functions()`` returns (asked every tick)."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        functions: Callable[[], Iterable[str]],
        *,
        max_sleep: float = 0.05,
        grace_ms: int = GRACE_MS,
        on_fire: Callable[[Fired], None] | None = None,
        batch: int = BATCH,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.rdb = ScheduleRDB(redis, keys)
        self.functions = functions
        self.max_sleep = max_sleep
        self.grace_ms = grace_ms
        self.on_fire = on_fire
        self.batch = batch
        self.fired = 0  # planned times this copy enqueued
        self.refused = 0  # steps another copy applied first
        self._offset_ms: float | None = None  # Redis time minus local monotonic, at last TIME
        self._cache: dict[tuple[str, str], _Cached] = {}
        self._unreadable: dict[tuple[str, str], bytes | None] = {}  # -> the rev that failed
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="scheduler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        await cancel_and_wait(task)  # one cancel can be lost: see streamfn.tasks

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                delay = await self.tick()
                failures = 0
            except (RedisError, OSError) as exc:
                delay = min(2.0, 0.05 * 2.0**failures)
                failures += 1
                log.warning("scheduler: Redis error (%s); retrying in %.2f s", exc, delay)
            except Exception:
                delay = self.max_sleep
                log.exception("scheduler tick failed; continuing")
            await asyncio.sleep(delay)

    def _estimate_ms(self) -> float | None:
        if self._offset_ms is None:
            return None
        return time.monotonic() * 1000 + self._offset_ms

    async def tick(self) -> float:
        """Fire what is due now; returns the seconds to sleep before the next tick."""
        functions = sorted(set(self.functions()))
        estimate = self._estimate_ms()
        # Before the first TIME reply there is no estimate: read the earliest batch instead.
        horizon = "+inf" if estimate is None else int(estimate + self.max_sleep * 1000 + HORIZON_MS)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.time()
            for fn in functions:
                pipe.zrange(
                    self.keys.schedules(fn),
                    "-inf",
                    horizon,
                    byscore=True,
                    offset=0,
                    num=self.batch,
                    withscores=True,
                )
            replies: list[Any] = await pipe.execute()
        seconds, micros = replies[0]
        now = int(seconds) * 1000 + int(micros) // 1000
        self._offset_ms = now - time.monotonic() * 1000
        due: list[tuple[str, str, int]] = []
        soonest: float | None = None
        again = False
        for fn, rows in zip(functions, replies[1:], strict=True):
            ready = [(fn, m.decode(), int(s)) for m, s in rows if s <= now]
            due += ready
            again = again or len(ready) == self.batch
            later = [s for _, s in rows if s > now]
            if later:
                soonest = min(later) if soonest is None else min(soonest, *later)
        if due:
            await self._fire(due, now)
        if again:
            return 0.0
        if soonest is None:
            return self.max_sleep
        return min(self.max_sleep, max(0.0, (soonest - (self._estimate_ms() or now)) / 1000))

    async def _fire(self, due: list[tuple[str, str, int]], now: int) -> None:
        # Copies see the same due list: a random order makes them mostly win different
        # schedules.  A few chunks in flight at once keep Redis busy while the next is built,
        # without taking more than PARALLEL connections from the pool.
        random.shuffle(due)
        chunks = [due[i : i + CHUNK] for i in range(0, len(due), CHUNK)]
        for i in range(0, len(chunks), PARALLEL):
            await asyncio.gather(*(self._fire_chunk(c, now) for c in chunks[i : i + PARALLEL]))

    async def _fire_chunk(self, chunk: list[tuple[str, str, int]], now: int) -> None:
        await self._load([(fn, sid) for fn, sid, _ in chunk if (fn, sid) not in self._cache])
        steps = [c for c in (self._plan(fn, sid, score, now) for fn, sid, score in chunk) if c]
        for step, result in zip(steps, await self.rdb.fire_many(steps), strict=True):
            self._report(step, result)

    async def _load(self, wanted: list[tuple[str, str]]) -> None:
        """Read definitions not cached yet; a refused step ("rev", "limit") evicts its entry."""
        if not wanted:
            return
        if len(self._cache) + len(wanted) > _CACHE_MAX:
            self._cache.clear()
        async with self.redis.pipeline(transaction=False) as pipe:
            for fn, sid in wanted:
                pipe.hgetall(self.keys.schedule(fn, sid))
            raws: list[dict[bytes, bytes]] = await pipe.execute()
        for (fn, sid), raw in zip(wanted, raws, strict=True):
            if not raw:
                continue  # deleted: planned as an empty step, which drops the stray entry
            try:
                self._cache[(fn, sid)] = _Cached(
                    raw[b"rev"].decode(),
                    spec_from_hash(raw),
                    misfire_from_hash(raw),
                    int(raw.get(b"fire_count") or 0),
                )
                self._unreadable.pop((fn, sid), None)
            except (KeyError, ValueError) as exc:
                if self._unreadable.get((fn, sid), b"") != raw.get(b"rev"):
                    log.error(
                        "schedule %s of %s is unreadable (%s); fix or delete it", sid, fn, exc
                    )
                self._unreadable[(fn, sid)] = raw.get(b"rev")

    def _plan(self, fn: str, sid: str, score: int, now: int) -> FireCall | None:
        cached = self._cache.get((fn, sid))
        if cached is None:
            if (fn, sid) in self._unreadable:
                return None
            return FireCall(fn, sid, score, "", now, (), None)
        try:
            step = plan(
                cached.spec,
                cached.misfire,
                due_ms=score,
                now_ms=now,
                fired=cached.fire_count,
                grace_ms=self.grace_ms,
            )
        except ValueError as exc:
            log.error("schedule %s of %s cannot be planned (%s); fix or delete it", sid, fn, exc)
            return None
        return FireCall(fn, sid, score, cached.rev, now, step.fires, step.next_ms)

    def _report(self, call: FireCall, result: FireResult | Exception) -> None:
        if isinstance(result, Exception):
            log.warning(
                "schedule %s of %s: fire refused by Redis: %s",
                call.schedule_id,
                call.function,
                result,
            )
            return
        key = (call.function, call.schedule_id)
        if not result.ok:
            self.refused += 1
            if result.reason != Reply.MOVED:  # changed under us: read it again next time
                self._cache.pop(key, None)
            if result.reason not in (Reply.MOVED, Reply.MISSING):
                log.debug(
                    "schedule %s of %s: step refused (%s); replanning next tick",
                    call.schedule_id,
                    call.function,
                    result.reason,
                )
            return
        cached = self._cache.get(key)
        if cached is not None:
            cached.fire_count = result.fire_count
        self.fired += len(result.fired)
        if self.on_fire is not None:
            for planned in result.fired:
                self.on_fire(Fired(call.function, call.schedule_id, planned, result.now_ms))
