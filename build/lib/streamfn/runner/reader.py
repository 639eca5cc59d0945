"""Reader: blocking XREADGROUPs over the loaded functions' streams, within free slots.

On one node a single read names every loaded stream.  On a Redis Cluster a command may name
keys of one slot only, so there is one read per shard (:mod:`streamfn.keys`) that holds a
loaded function: at most ``STREAMFN_SHARDS`` blocking reads however many functions the
runner serves, each naming every loaded stream of its shard.  The reads of one runner share
its free slots (:class:`Slots`), so together they never take more entries than it can run.

COUNT applies per stream, so a call names at most ``free`` streams with COUNT
``max(1, free // n)``: it can never deliver more entries than the runner has slots for, and
nothing waits in a local buffer where its lease could run out.  The first stream of each call
rotates, so with more streams than slots every function still gets its turn (and such calls
block only briefly, since a new entry may arrive in a stream the call left out).

The reader has its own connection (a BLOCK would hold a pooled one), with a socket timeout
well above the BLOCK time.  Connection errors are logged and retried with a bounded backoff;
NOGROUP (Redis restarted without its data) recreates the groups.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from redis.asyncio import RedisCluster
from redis.exceptions import RedisError, ResponseError

from streamfn import resp
from streamfn.connection import AnyRedis
from streamfn.keys import GROUP, Keys
from streamfn.loop import Backoff
from streamfn.runner.discovery import Discovery
from streamfn.runner.executor import Executor
from streamfn.runner.faults import NO_FAULTS, Faults
from streamfn.runner.groups import ensure_groups
from streamfn.runner.handler_import import LoadedFunction
from streamfn.tasks import cancel_and_wait

log = logging.getLogger("streamfn.runner.reader")

BLOCK_MS = 500
BURST_BLOCK_MS = 50
SHORT_BLOCK_MS = 50  # when free slots < streams: each call reads only some of them


class Slots:
    """The executor's free slots, less those that reads in flight may fill, taken in turn.

    Readers that found no slot queue up, and a slot given back goes to the first of them, so
    one shard's read cannot take every slot again and again while another's waits.
    """

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.held = 0
        self.readers = 1
        self._queue: list[object] = []
        self._given = asyncio.Event()

    @property
    def free(self) -> int:
        return self.executor.free - self.held

    @property
    def contended(self) -> bool:
        """Fewer free slots than readers, or readers waiting: reads should block briefly."""
        return bool(self._queue) or self.free < self.readers

    def take(self, reader: object, most: int) -> int:
        """Up to ``most`` slots for ``reader``, if it is its turn; 0 puts it in the queue."""
        if (self._queue and self._queue[0] is not reader) or self.free < 1:
            if reader not in self._queue:
                self._queue.append(reader)
            return 0
        if self._queue:
            self._queue.pop(0)
        n = min(most, self.free)
        self.held += n
        return n

    def give(self, n: int) -> None:
        self.held -= n
        self._given.set()

    async def wait(self) -> None:
        """Until a slot may be free: one finished, or a read gave its share back."""
        if self.executor.free < 1:
            await self.executor.wait_free()
            return
        self._given.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SHORT_BLOCK_MS / 1000):
                await self._given.wait()


class Reader:
    """Feeds delivered entries to the executor until stopped: one :class:`ShardReader` on a
    single node, one per shard in use on a cluster."""

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
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.discovery = discovery
        self.slots = Slots(executor)
        self.per_shard = isinstance(redis, RedisCluster)
        self._parts = (redis, keys, consumer, discovery, executor)
        self._block_ms = block_ms
        self._faults = faults
        self.readers: dict[int | None, ShardReader] = {}
        self._watch: asyncio.Task[None] | None = None

    def _make(self, shard: int | None) -> ShardReader:
        redis, keys, consumer, discovery, executor = self._parts
        return ShardReader(
            redis,
            keys,
            consumer,
            discovery,
            executor,
            self.slots,
            shard=shard,
            block_ms=self._block_ms,
            faults=self._faults,
        )

    @property
    def delivered(self) -> int:
        return sum(r.delivered for r in self.readers.values())

    @property
    def empty_rounds(self) -> int:
        """Rounds in which every read came back empty (burst mode's "drained")."""
        return min((r.empty_rounds for r in self.readers.values()), default=0)

    async def start(self) -> None:
        if not self.per_shard:
            self.readers[None] = self._make(None)
            await self.readers[None].start()
            return
        await self._sync()
        self._watch = asyncio.create_task(self._follow(), name="reader-shards")

    async def _follow(self) -> None:
        version = self.discovery.version
        while True:
            await asyncio.sleep(SHORT_BLOCK_MS / 1000)
            if self.discovery.version != version:
                version = self.discovery.version
                await self._sync()

    async def _sync(self) -> None:
        """One read per shard holding a loaded function (the empty round counts kept)."""
        wanted = set(self.keys.by_shard(self.discovery.functions)) or {0}
        new = sorted(wanted - self.readers.keys())
        if not new:
            return
        # Every group first, then every read: the reads start together and take turns.
        await ensure_groups(self.redis, self.keys, self.discovery.functions)
        for shard in new:
            self.readers[shard] = self._make(shard)
            self.readers[shard].grouped()
        self.slots.readers = len(self.readers)
        for shard in new:
            await self.readers[shard].start()

    async def stop(self) -> None:
        if self._watch is not None:
            await cancel_and_wait(self._watch)
            self._watch = None
        for reader in self.readers.values():
            await reader.stop()


class ShardReader:
    """The read of one shard's streams (``shard`` None: every stream, on one node)."""

    def __init__(
        self,
        redis: AnyRedis,
        keys: Keys,
        consumer: str,
        discovery: Discovery,
        executor: Executor,
        slots: Slots,
        *,
        shard: int | None,
        block_ms: int = BLOCK_MS,
        faults: Faults = NO_FAULTS,
    ) -> None:
        self.redis = redis
        self.slots = slots
        self.shard = shard
        self.faults = faults
        self.keys = keys
        self.consumer = consumer
        self.discovery = discovery
        self.executor = executor
        self.block_ms = block_ms
        self.delivered = 0
        # Burst mode's "drained" test: rounds in which every loaded stream was read and
        # came back empty.  ``_empty`` collects the streams seen empty since the last entry.
        self.empty_rounds = 0
        self._empty: set[bytes] = set()
        self._version = -1
        self._streams: list[tuple[bytes, LoadedFunction]] = []
        self._rotation = 0
        self._grouped = False  # groups ensured for the current set of streams
        self._backoff = Backoff()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._head = ("XREADGROUP", "GROUP", GROUP, consumer, "COUNT")

    def grouped(self) -> None:
        """The groups of the current streams exist: the first read need not create them."""
        self._current()
        self._grouped = True

    async def start(self) -> None:
        name = "reader" if self.shard is None else f"reader-{self.shard}"
        self._task = asyncio.create_task(self._run(), name=name)

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    def _current(self) -> list[tuple[bytes, LoadedFunction]]:
        if self._version != self.discovery.version:
            self._version = self.discovery.version
            self._streams = [
                (self.keys.stream(name).encode(), fn)
                for name, fn in sorted(self.discovery.functions.items())
                if self.shard is None or self.keys.shard(name) == self.shard
            ]
            self._empty.clear()
            self._grouped = False
        return self._streams

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.read_once()
                self._backoff.reset()
            except ResponseError as exc:
                if "NOGROUP" in str(exc):
                    log.warning("consumer group missing (Redis lost its data?); recreating")
                    await self._recreate_groups()
                else:
                    await self._pause(exc)
            except (RedisError, OSError) as exc:
                await self._pause(exc)
            except Exception:
                log.exception("reader failed; continuing")
                await asyncio.sleep(self._backoff.next())

    async def _pause(self, exc: BaseException) -> None:
        delay = self._backoff.next()
        log.warning("reading streams failed (%s); retrying in %.2f s", exc, delay)
        await asyncio.sleep(delay)

    async def _recreate_groups(self) -> None:
        try:
            await ensure_groups(self.redis, self.keys, self.discovery.functions)
        except (RedisError, OSError) as exc:
            await self._pause(exc)

    async def read_once(self) -> int:
        """Wait for a free slot, then one XREADGROUP; returns the entries delivered."""
        streams = self._current()
        if not streams:
            self.empty_rounds += 1
            await asyncio.sleep(self.block_ms / 1000)
            return 0
        if not self._grouped:  # a new function's stream may not exist yet
            await ensure_groups(self.redis, self.keys, [fn.name for _, fn in streams])
            self._grouped = True
            return 0
        # At most half the slots per read: the next read is in flight while this batch runs
        # (and Redis serves it while we execute), instead of runner and Redis taking turns.
        contended = self.slots.contended  # before this read takes its share
        free = self.slots.take(self, max(1, self.executor.concurrency // 2))
        if free < 1:
            await self.slots.wait()
            return 0
        try:
            return await self._read(streams, free, contended)
        finally:
            self.slots.give(free)

    async def _read(
        self, streams: list[tuple[bytes, LoadedFunction]], free: int, contended: bool
    ) -> int:
        n = min(len(streams), free)
        start = self._rotation % len(streams)
        self._rotation += 1
        chosen = [streams[(start + i) % len(streams)] for i in range(n)]
        by_key = dict(chosen)
        short = n < len(streams) or contended
        block = min(self.block_ms, SHORT_BLOCK_MS) if short else self.block_ms
        args: tuple[Any, ...] = (
            *self._head,
            max(1, free // n),
            "BLOCK",
            block,
            "STREAMS",
            *by_key,
            *[">"] * n,
        )
        if isinstance(self.redis, RedisCluster):
            # Every named stream is in this reader's shard, hence on the node of its slot.
            node = self.redis.get_node_from_key(chosen[0][0].decode())
            reply = await self.redis.execute_command(*args, target_nodes=node)
        else:
            # Sent pre-encoded (streamfn.resp): redis-py's command path cost ~25 µs per
            # read, which a trickle of single invocations pays in full.
            (reply,) = await resp.execute(self.redis, resp.encode(args), 1)
        if isinstance(reply, Exception):
            raise reply
        if not reply:
            self._empty.update(by_key)
            if len(self._empty) >= len(streams):
                self.empty_rounds += 1
                self._empty.clear()
            return 0
        self._empty.clear()
        return self._deliver(reply, by_key)

    def _deliver(self, reply: Any, by_key: dict[bytes, LoadedFunction]) -> int:
        """Hand each entry of an XREADGROUP reply to the executor; the number delivered."""
        if self.faults.armed:
            self.faults.point("after_read")
        delivered = 0
        submit = self.executor.submit
        # RESP3 (redis-py 8's default) answers a map of streams, RESP2 a list of pairs.
        for stream, entries in reply.items() if isinstance(reply, dict) else reply:
            fn = by_key[stream]
            for entry_id, flat in entries:
                # A flat list when sent pre-encoded; redis-py's cluster client parses a dict.
                fields = (
                    flat
                    if flat is None or isinstance(flat, dict)
                    else dict(zip(flat[::2], flat[1::2], strict=True))
                )
                submit(fn, entry_id.decode(), fields)
            delivered += len(entries)
        self.delivered += delivered
        return delivered
