"""Pauses: which functions this runner must start no work of (:mod:`streamfn.pauses`).

One loop reads the whole ``{ns:registry}:paused`` hash every second: one HGETALL per runner
per second however many functions there are, and a pause or resume takes effect within that.
The readers leave a paused function's streams out of their XREADGROUPs (they rebuild their
stream list when :attr:`Pauses.version` moves) and the reclaimer claims none of its entries,
so its queued work, and the work a dead runner left pending, waits until it is resumed.
Work already running finishes as usual (leases renewed, outcomes reported).

A read that was already blocked when the pause arrived may still deliver an entry of the
paused function; that entry is handed back at once (``release.lua``: back at the stream's
tail, unstarted), so nothing new starts once this runner has seen the pause.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from redis.exceptions import RedisError

from streamfn import pauses
from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.loop import Loop
from streamfn.rdb import RDB

log = logging.getLogger("streamfn.runner.pauses")

STOP_TIMEOUT = 2.0


class Pauses(Loop):
    """The paused set, re-read every ``interval``; hands back entries delivered too late."""

    name = "pauses"
    logger = log

    def __init__(
        self, redis: AnyRedis, keys: Keys, rdb: RDB, consumer: str, interval: float = pauses.REFRESH
    ) -> None:
        super().__init__(interval)
        self.redis = redis
        self.keys = keys
        self.rdb = rdb
        self.consumer = consumer
        self.names: frozenset[str] = frozenset()
        self.version = 0  # moves each time the set changes: the readers rebuild their lists
        self.handed_back = 0
        self._releases: set[asyncio.Task[None]] = set()
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every change of the paused set."""
        self._listeners.append(callback)

    async def start(self) -> None:
        """Read once before the readers start (a paused function is never read), then loop."""
        try:
            await self.tick()
        except (RedisError, OSError) as exc:
            log.warning("pauses: cannot read the paused functions yet (%s); retrying", exc)
        await super().start()

    async def stop(self) -> None:
        await super().stop()
        if self._releases:
            await asyncio.wait(set(self._releases), timeout=STOP_TIMEOUT)

    async def tick(self) -> None:
        names = frozenset(await pauses.read(self.redis, self.keys))
        if names != self.names:
            for fn in sorted(names - self.names):
                log.info("%s: paused; starting none of its work until it is resumed", fn)
            for fn in sorted(self.names - names):
                log.info("%s: resumed", fn)
            self.names = names
            self.version += 1
            for callback in self._listeners:
                callback()

    def hand_back(self, queue: str, entry_id: str, fields: dict[bytes, bytes]) -> None:
        """Give back an entry of a paused function that a read delivered anyway."""
        invocation_id = fields.get(b"id", b"").decode(errors="replace")
        task = asyncio.create_task(self._release(queue, entry_id, invocation_id))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    async def _release(self, queue: str, entry_id: str, invocation_id: str) -> None:
        try:
            await self.rdb.release(queue, self.consumer, entry_id, invocation_id)
            self.handed_back += 1
        except (RedisError, OSError) as exc:
            # It stays pending for us, unrenewed: reclaimed after the visibility timeout
            # once the function is resumed.  Nothing is lost.
            log.warning("%s: could not hand back paused entry %s (%s)", queue, entry_id, exc)
