"""One blocking XREADGROUP loop over some of the loaded queues' streams (one hash tag's, or all).

COUNT applies per stream, so a call names at most ``free`` streams with COUNT
``max(1, free // n)``: it can never deliver more entries than the runner has slots for, and
nothing waits in a local buffer where its lease could run out.  Each call starts where the
last one stopped, so with more streams than slots every function gets its turn within
``streams / free`` calls (and such calls block only briefly, since a new entry may arrive in
a stream the call left out).

The reads have their own connection (a BLOCK would hold a pooled one), with a socket timeout
well above the BLOCK time.  Connection errors are logged and retried with a bounded backoff;
NOGROUP (Redis restarted without its data) recreates the groups.  Each round stamps the
loop's :class:`~streamfn.runner.pulse.Pulse`, which the health probes judge
(:mod:`streamfn.runner.health`).

Paused functions (:mod:`streamfn.runner.pauses`) are left out of the read: their streams are
not named, so their entries stay queued.  An entry of one that a read already in flight
delivers is handed back unstarted.
"""

from __future__ import annotations

import asyncio
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
from streamfn.runner.pauses import Pauses
from streamfn.runner.pulse import Pulse
from streamfn.runner.slots import Slots
from streamfn.tasks import cancel_and_wait

log = logging.getLogger("streamfn.runner.reader")

BLOCK_MS = 500
BURST_BLOCK_MS = 50
SHORT_BLOCK_MS = 50  # when free slots < streams: each call reads only some of them
READ_SOCKET_TIMEOUT_S = BLOCK_MS / 1000 + 5
"""The reads' socket timeout: past the BLOCK, so a quiet stream never reads as a dead
connection, and bounded, so a read from a stalled Redis fails and the loop goes round."""


class ShardReader:
    """The read of one hash tag's streams (``tag`` None: every stream, on one node)."""

    def __init__(
        self,
        redis: AnyRedis,
        keys: Keys,
        consumer: str,
        discovery: Discovery,
        executor: Executor,
        slots: Slots,
        *,
        tag: str | None,
        block_ms: int = BLOCK_MS,
        faults: Faults = NO_FAULTS,
        pauses: Pauses | None = None,
    ) -> None:
        self.redis = redis
        self.slots = slots
        self.pauses = pauses
        self.tag = tag
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
        self._version = (-1, -1)  # (discovery, pauses) versions of the current streams
        self._streams: list[tuple[bytes, LoadedFunction]] = []
        self._rotation = 0
        self._grouped = False  # groups ensured for the current set of streams
        self._backoff = Backoff()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.pulse = Pulse()
        self._head = ("XREADGROUP", "GROUP", GROUP, consumer, "COUNT")

    def grouped(self) -> None:
        """The groups of the current streams exist: the first read need not create them."""
        self._current()
        self._grouped = True

    async def start(self) -> None:
        name = "reader" if self.tag is None else f"reader-{self.tag}"
        self.pulse = Pulse()
        self._task = asyncio.create_task(self._run(), name=name)
        self._task.add_done_callback(self._ended)

    def _ended(self, _: asyncio.Task[None]) -> None:
        self.pulse.running = False

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    def _paused(self) -> frozenset[str]:
        return frozenset() if self.pauses is None else self.pauses.names

    def _current(self) -> list[tuple[bytes, LoadedFunction]]:
        version = (self.discovery.version, 0 if self.pauses is None else self.pauses.version)
        if self._version != version:
            self._version = version
            paused = self._paused()
            self._streams = [
                (self.keys.stream(queue).encode(), fn)
                for queue, fn in sorted(self.discovery.queues.items())
                if (self.tag is None or self.keys.tag(queue) == self.tag) and fn.name not in paused
            ]
            self._empty.clear()
            self._grouped = False
        return self._streams

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await self.read_once()
                self._backoff.reset()
                self.pulse.answer()
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
            self.pulse.end()

    async def _pause(self, exc: BaseException) -> None:
        delay = self._backoff.next()
        log.warning("reading streams failed (%s); retrying in %.2f s", exc, delay)
        await asyncio.sleep(delay)

    async def _recreate_groups(self) -> None:
        try:
            await ensure_groups(self.redis, self.keys, self.discovery.queues)
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
            await ensure_groups(self.redis, self.keys, [fn.queue for _, fn in streams])
            self._grouped = True
            return 0
        # At most half the slots per read: the next read is in flight while this batch runs
        # (and Redis serves it while we execute), instead of runner and Redis taking turns.
        contended = self.slots.contended  # before this read takes its share
        free = self.slots.take(self, max(1, self.executor.concurrency // 2))
        if free < 1:
            self.pulse.waiting = True
            try:
                await self.slots.wait()
            finally:
                self.pulse.waiting = False
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
        self._rotation += n  # the next call names the next n: every stream within len/n calls
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
            # Every named stream has this reader's hash tag, hence is on the node of its slot.
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
        paused = self._paused()  # paused while this read was out: hand those back
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
                if paused and fn.name in paused and fields is not None and self.pauses:
                    self.pauses.hand_back(fn.queue, entry_id.decode(), fields)
                    continue
                submit(fn, entry_id.decode(), fields)
            delivered += len(entries)
        self.delivered += delivered
        return delivered
