"""Reader: blocking XREADGROUPs over the loaded functions' streams, within free slots.

On one node a single read (:class:`~streamfn.runner.shard_reader.ShardReader`) names every
loaded stream.  On a Redis Cluster a command may name keys of one slot only, so there is one
read per hash tag that holds a loaded queue: one per shard (:mod:`streamfn.keys`) with a
function in it, plus one per partition tag of partitioned functions
(:mod:`streamfn.partitions`).  So at most ``STREAMFN_SHARDS`` blocking reads serve any number
of unpartitioned functions, each read naming every loaded stream of its tag.  The reads of one
runner share its free slots (:class:`~streamfn.runner.slots.Slots`), so together they never
take more entries than it can run, and take turns when slots are scarce.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import RedisCluster

from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.runner.discovery import Discovery
from streamfn.runner.executor import Executor
from streamfn.runner.faults import NO_FAULTS, Faults
from streamfn.runner.groups import ensure_groups
from streamfn.runner.pauses import Pauses
from streamfn.runner.pulse import Pulse
from streamfn.runner.shard_reader import BLOCK_MS, ShardReader
from streamfn.runner.slots import Slots
from streamfn.tasks import cancel_and_wait


class Reader:
    """Feeds delivered entries to the executor until stopped: one :class:`ShardReader` on a
    single node, one per hash tag in use on a cluster."""

    def __init__(
        self,
        redis: AnyRedis,
        keys: Keys,
        consumer: str,
        discovery: Discovery,
        executor: Executor,
        *,
        block_ms: int = BLOCK_MS,
        faults: Faults = NO_FAULTS,
        pauses: Pauses | None = None,
    ) -> None:
        """``pauses``: the paused functions, whose streams the reads leave out."""
        self.redis = redis
        self.pauses = pauses
        self.keys = keys
        self.discovery = discovery
        self.slots = Slots(executor)
        self.per_shard = isinstance(redis, RedisCluster)
        self._parts = (redis, keys, consumer, discovery, executor)
        self._block_ms = block_ms
        self._faults = faults
        self.readers: dict[str | None, ShardReader] = {}
        self._watch: asyncio.Task[None] | None = None

    def _make(self, tag: str | None) -> ShardReader:
        redis, keys, consumer, discovery, executor = self._parts
        return ShardReader(
            redis,
            keys,
            consumer,
            discovery,
            executor,
            self.slots,
            tag=tag,
            block_ms=self._block_ms,
            faults=self._faults,
            pauses=self.pauses,
        )

    @property
    def delivered(self) -> int:
        return sum(r.delivered for r in self.readers.values())

    def pulses(self) -> dict[str, Pulse]:
        """Each read loop's :class:`Pulse`, by hash tag (``*``: the one read of a single node)."""
        return {tag or "*": r.pulse for tag, r in self.readers.items()}

    @property
    def empty_rounds(self) -> int:
        """Rounds in which every read came back empty (burst mode's "drained")."""
        return min((r.empty_rounds for r in self.readers.values()), default=0)

    async def start(self) -> None:
        if not self.per_shard:
            self.readers[None] = self._make(None)
            await self.readers[None].start()
            return
        changed = asyncio.Event()
        self.discovery.subscribe(changed.set)
        await self._sync()
        self._watch = asyncio.create_task(self._follow(changed), name="reader-shards")

    async def _follow(self, changed: asyncio.Event) -> None:
        """A new tag's read starts when discovery loads its first queue."""
        while True:
            await changed.wait()
            changed.clear()
            await self._sync()

    async def _sync(self) -> None:
        """One read per hash tag holding a loaded queue (the empty round counts kept)."""
        wanted = set(self.keys.by_tag(self.discovery.queues)) or {self.keys.tags[0]}
        for gone in sorted(t for t in self.readers if t is not None and t not in wanted):
            await self.readers.pop(gone).stop()  # a retired layout's tag: nothing to read
        self.slots.readers = len(self.readers)
        new = sorted(t for t in wanted if t not in self.readers)
        if not new:
            return
        # Every group first, then every read: the reads start together and take turns.
        await ensure_groups(self.redis, self.keys, self.discovery.queues)
        for tag in new:
            self.readers[tag] = self._make(tag)
            self.readers[tag].grouped()
        self.slots.readers = len(self.readers)
        for tag in new:
            await self.readers[tag].start()

    async def stop(self) -> None:
        if self._watch is not None:
            await cancel_and_wait(self._watch)
            self._watch = None
        for reader in self.readers.values():
            await reader.stop()
