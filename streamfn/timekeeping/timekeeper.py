"""The timekeeper: promote due timers and fire due schedules in every hash tag it watches, at a
cost that does not grow with the number of functions.

Each tag (a shard tag, or a partition tag) has two indexes, kept exact by the scripts that
change timers and schedules: ``due_timers`` (queue -> its earliest timer) and
``due_schedules`` (function -> its earliest next fire).  The timekeeper reads them, promotes
the due queues (:mod:`.promotion`) and fires the due functions (:mod:`.schedule_fires`), then
sleeps until the earliest time it read.  A script that moves a tag's due time earlier than
any its index held SPUBLISHes it on the tag's wake channel, so a new delayed invocation due in
a second wakes the timekeeper for that second without any polling.  Pub/sub is not durable,
so every (re)subscribe re-reads every tag, and so does every ``max_sleep`` seconds
(``STREAMFN_PROMOTE_INTERVAL``): with nothing due, the timekeeper runs two ZRANGEs per tag
per ``max_sleep``, whatever the number of functions.

Any number of timekeepers may watch the same tags (every runner, every ``streamfn scheduler``):
``promote.lua``'s ZREM and ``schedule_fire.lua``'s compare-and-set let each timer and each
planned fire move once.  The Redis-clock estimate (:class:`~.clock.RedisClock`) decides only
when to ask; the scripts decide what is due on Redis ``TIME``.

Queues it is told of (:meth:`Timekeeper.watch`) are entered in the indexes once
(``reindex.lua``), for keys written before the indexes existed.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from streamfn import partitions
from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.loop import Loop
from streamfn.names import is_function_name
from streamfn.rdb import RDB
from streamfn.schedules.due import Fired
from streamfn.subscriber import Subscriber
from streamfn.timekeeping.clock import RedisClock
from streamfn.timekeeping.promotion import EARLY_MS, Promotion
from streamfn.timekeeping.schedule_fires import ScheduleFirer

log = logging.getLogger("streamfn.timekeeping.timekeeper")

ROWS = 200
"""Index members read per tag and kind: the earliest ones.  When the last one read is due too,
the tag is read again at once, so a tag with more due queues is only served in several reads."""
HOLD_MS = 1.0
"""How long a function the index names as due, whose schedules are not due yet by Redis's
clock (the estimate ran ahead), waits before it is looked at again."""
RETRY_MS = 50.0
"""How long a function whose due schedules a round could not move (a step refused or one that
cannot be planned) waits before the next round tries again."""

Rows = list[tuple[bytes, float]]
_LAYOUT = re.compile(r"([2-9]|1[0-6])\.([1-9]|1[0-5])")  # "P.j" of a partition queue's name


class Timekeeper(Loop):
    """Promotion and schedule firing for the shard tags and the tags of :meth:`watch`'s queues."""

    name = "timekeeper"
    logger = log

    def __init__(
        self,
        rdb: RDB,
        redis: AnyRedis,
        keys: Keys,
        clock: RedisClock,
        *,
        max_sleep: float,
        on_fire: Callable[[Fired], None] | None = None,
    ) -> None:
        super().__init__(max_sleep)
        self.rdb = rdb
        self.redis = redis
        self.keys = keys
        self.clock = clock
        self.promotion = Promotion(rdb, redis, keys, clock)
        self.firer = ScheduleFirer(redis, keys, clock, on_fire=on_fire)
        self.tags: list[str] = list(keys.tags)
        self.reads = 0  # tag index reads (the idle cost: tests and the bench look at it)
        self._channels = {keys.wake_channel(t): t for t in self.tags}
        self._next: dict[str, float] = {}  # tag -> Redis ms to read it again (absent: never)
        self._hint: dict[str, float] = {}  # tag -> earliest announced since its last read
        self._hold: dict[str, float] = {}  # "t:<queue>" / "s:<fn>" -> not due before (ms)
        self._queues: set[str] = set()
        self._unindexed: set[str] = set()
        self._read_all_at = 0.0  # monotonic: when every tag is read again
        self.listener = Subscriber(
            redis,
            list(self._channels),
            self._on_wake,
            self._resync,
            name="wake listener",
            logger=log,
            with_channel=True,
        )

    async def start(self) -> None:
        await super().start()
        await self.listener.start()

    async def stop(self) -> None:
        await self.listener.stop()
        await super().stop()

    def watch(self, queues: Iterable[str]) -> None:
        """Serve the tags of ``queues`` too (a partition queue has its own); queues not seen
        before are entered in the indexes at the next tick."""
        wanted = set(queues)
        self._unindexed |= wanted - self._queues
        self._queues = wanted
        self.tags = self.keys.tags_of(wanted)
        self._channels = {self.keys.wake_channel(t): t for t in self.tags}
        self.listener.set_channels(list(self._channels))  # resubscribes, then resyncs
        self.wake()

    def _on_wake(self, channel: str, data: Any) -> None:
        tag = self._channels.get(channel)
        try:
            at = float(data)
        except (TypeError, ValueError):
            return
        if tag is not None and at < self._hint.get(tag, math.inf):
            self._hint[tag] = at
            self.wake()

    async def _resync(self) -> None:
        self._read_all_at = 0.0  # announcements may have been missed: read every tag
        self.wake()

    def _due_at(self, tag: str) -> float:
        return min(self._next.get(tag, math.inf), self._hint.get(tag, math.inf))

    async def tick(self) -> float:
        if self._unindexed:
            queues = sorted(self._unindexed)
            await self._reindex(queues)
            self._unindexed.difference_update(queues)
            self._read_all_at = 0.0
        now = self.clock.now_ms()
        if time.monotonic() >= self._read_all_at:
            self._read_all_at = time.monotonic() + self.interval
            due = list(self.tags)
        else:
            due = [t for t in self.tags if self._due_at(t) <= now]
        if due:
            await self._serve(due, now)
        return self._sleep()

    def _sleep(self) -> float:
        now = self.clock.now_ms()
        soonest = min((self._due_at(t) for t in self.tags), default=math.inf)
        until_all = self._read_all_at - time.monotonic()
        return max(0.0, min(until_all, (soonest - now) / 1000))

    async def _serve(self, tags: list[str], now: float) -> None:
        """Read ``tags``' indexes, promote and fire what is due, note when to come back."""
        for tag in tags:
            self._hint.pop(tag, None)  # what arrives from now on is newer than this read
        async with self.redis.pipeline(transaction=False) as pipe:
            for tag in tags:
                pipe.zrange(self.keys.due_timers(tag), 0, ROWS - 1, withscores=True)
                pipe.zrange(self.keys.due_schedules(tag), 0, ROWS - 1, withscores=True)
            replies: list[Any] = await pipe.execute()
        self.reads += len(tags)
        self._hold = {k: v for k, v in self._hold.items() if v > now}
        queues: dict[str, str] = {}  # due queue -> its tag
        functions: dict[str, tuple[str, float]] = {}  # due function -> (tag, index score)
        strays: list[tuple[str, bytes]] = []
        for i, tag in enumerate(tags):
            timers, schedules = replies[2 * i], replies[2 * i + 1]
            due_timers, later_timer = self._split(tag, timers, now + EARLY_MS, "t:")
            due_fns, later_fire = self._split(tag, schedules, now, "s:")
            queues.update(dict.fromkeys((q for q, _ in due_timers), tag))
            functions.update((fn, (tag, score)) for fn, score in due_fns)
            self._next[tag] = min(later_timer, later_fire)
            for index, rows in (
                (self.keys.due_timers(tag), timers),
                (self.keys.due_schedules(tag), schedules),
            ):
                strays += [(index, m) for m, _ in rows if not self._ours(tag, m)]
        if strays:
            await self._drop(strays)
        if queues:
            await self._promote(queues, now)
        if functions:
            await self._fire(functions)

    def _ours(self, tag: str, member: bytes) -> bool:
        """Whether an index member names a queue of ``tag`` (the scripts write no other)."""
        name = member.decode(errors="replace")
        function, _, layout = name.partition(partitions.SEPARATOR)
        if not is_function_name(function) or (layout and not _LAYOUT.fullmatch(layout)):
            return False
        return self.keys.tag(name) == tag

    async def _drop(self, strays: list[tuple[str, bytes]]) -> None:
        """Remove members no script wrote (a plain ZREM: no script writes them there)."""
        log.warning(
            "removing %d index entries that name no queue of their tag, e.g. %r in %s",
            len(strays),
            strays[0][1],
            strays[0][0],
        )
        async with self.redis.pipeline(transaction=False) as pipe:
            for index, member in strays:
                pipe.zrem(index, member)
            await pipe.execute()

    def _split(
        self, tag: str, rows: Rows, due_by: float, kind: str
    ) -> tuple[list[tuple[str, float]], float]:
        """The due members of one index read, and the earliest later time (-inf when the
        read may have stopped short of more due members)."""
        due: list[tuple[str, float]] = []
        later = math.inf
        for member, score in rows:
            if not self._ours(tag, member):
                continue
            name = member.decode()
            at = max(score, self._hold.get(kind + name, -math.inf))
            if at <= due_by:
                due.append((name, score))
            else:
                later = min(later, at)
        if len(rows) == ROWS and rows[-1][1] <= due_by:
            later = -math.inf
        return due, later

    async def _promote(self, queues: dict[str, str], now: float) -> None:
        for queue, when in (await self.promotion.promote(queues)).items():
            tag = queues[queue]
            if when is not None and when > now:  # its next timer, by Redis's clock
                self._hold["t:" + queue] = when
            # A timer added meanwhile that was not the tag's earliest was not announced, and
            # may be now: read the tag again rather than trust this read's rows.
            self._next[tag] = -math.inf

    async def _fire(self, functions: dict[str, tuple[str, float]]) -> None:
        scan = await self.firer.round(functions)
        fired = {fn for fn, _, _ in scan.due}
        stale: list[str] = []
        for fn, (tag, score) in functions.items():
            self._next[tag] = -math.inf  # the fires moved the function's entry: read again
            if fn in fired:
                # A round that moved none of the function's due schedules (each step refused,
                # or unplannable) would find them again at once: wait a little first.
                if fn not in self.firer.moved and not scan.again:
                    self._hold["s:" + fn] = self.clock.now_ms() + RETRY_MS
            elif score > scan.now_ms:  # the estimate ran ahead of Redis's clock
                self._hold["s:" + fn] = self.clock.now_ms() + max(HOLD_MS, score - scan.now_ms)
            else:  # the index is behind the schedules (an older release's write): fix it
                stale.append(fn)
        if stale:
            await self._reindex(stale)

    async def _reindex(self, queues: list[str]) -> None:
        """``reindex.lua`` for ``queues``; one that Redis refuses is reported, not retried."""
        refused = await self.rdb.reindex(queues)
        if refused:
            queue, why = next(iter(refused.items()))
            log.error(
                "could not index %d queues, e.g. %s (%s); their timers and schedules are found "
                "only once a script writes them again",
                len(refused),
                queue,
                why,
            )
