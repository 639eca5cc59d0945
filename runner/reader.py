"""Reader: one blocking XREADGROUP over the loaded functions' streams, within free slots.

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
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from streamfn import resp
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


class Reader:
    """Feeds delivered entries to the executor until stopped."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        consumer: str,
        discovery: Discovery,
        executor: Executor,
        *,
        block_ms: int = BLOCK_MS,
        faults: Faults = NO_FAULTS,
    ) -> None:
        self.redis = redis
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

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="reader")

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
        if self.executor.free < 1:
            await self.executor.wait_free()
        streams = self._current()
        if not streams:
            self.empty_rounds += 1
            await asyncio.sleep(self.block_ms / 1000)
            return 0
        if not self._grouped:  # a new function's stream may not exist yet
            await ensure_groups(self.redis, self.keys, self.discovery.functions)
            self._grouped = True
            return 0
        # At most half the slots per read: the next read is in flight while this batch runs
        # (and Redis serves it while we execute), instead of runner and Redis taking turns.
        free = min(self.executor.free, max(1, self.executor.concurrency // 2))
        if free < 1:
            return 0
        n = min(len(streams), free)
        start = self._rotation % len(streams)
        self._rotation += 1
        chosen = [streams[(start + i) % len(streams)] for i in range(n)]
        by_key = dict(chosen)
        # Sent pre-encoded (streamfn.resp): redis-py's command path cost ~25 µs per read,
        # which a trickle of single invocations pays in full.
        block = self.block_ms if n == len(streams) else min(self.block_ms, SHORT_BLOCK_MS)
        command = resp.encode(
            (*self._head, max(1, free // n), "BLOCK", block, "STREAMS", *by_key, *[">"] * n)
        )
        (reply,) = await resp.execute(self.redis, command, 1)
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
                fields = None if flat is None else dict(zip(flat[::2], flat[1::2], strict=True))
                submit(fn, entry_id.decode(), fields)
            delivered += len(entries)
        self.delivered += delivered
        return delivered
