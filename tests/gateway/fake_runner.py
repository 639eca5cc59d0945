"""A stand-in runner: reads a function's stream as the consumer group does, then reports
outcomes with ``RDB.finish_many``, exactly the calls a real runner makes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from streamfn import codec
from streamfn.keys import GROUP, Keys
from streamfn.rdb import RDB, Completion
from streamfn.settings import Settings

CONSUMER = "fake-runner"
Outcome = Callable[[Any], tuple[Any, dict[str, str] | None]]


def echo(payload: Any) -> tuple[Any, dict[str, str] | None]:
    return {"echo": payload}, None


class FakeRunner:
    """Pulls entries with XREADGROUP and finishes them; no handler code is imported."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.keys = Keys.of(settings)
        self.rdb = RDB(redis, settings)
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def ensure_group(self, function: str) -> None:
        try:
            await self.redis.xgroup_create(self.keys.stream(function), GROUP, "0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def claim(self, function: str, count: int = 1000, block_ms: int = 100) -> list[Any]:
        """Deliver up to ``count`` entries to this consumer (they become "running")."""
        await self.ensure_group(function)
        reply: Any = await self.redis.xreadgroup(
            GROUP, CONSUMER, {self.keys.stream(function): ">"}, count=count, block=block_ms
        )
        return [] if not reply else list(reply[0][1])

    async def finish(
        self, function: str, entries: list[Any], outcome: Outcome = echo, *, mode: str = "retry"
    ) -> list[str]:
        items = []
        for entry_id, fields in entries:
            result, error = outcome(codec.loads(fields[b"p"]))
            items.append(
                Completion(
                    function=function,
                    entry_id=entry_id.decode(),
                    invocation_id=fields[b"id"].decode(),
                    duration_ms=1,
                    result=codec.dumps(result),
                    error=error,
                    mode=mode,
                )
            )
        return await self.rdb.finish_many(CONSUMER, items)

    async def run_once(self, function: str, outcome: Outcome = echo, *, mode: str = "retry") -> int:
        entries = await self.claim(function)
        if entries:
            await self.finish(function, entries, outcome, mode=mode)
        return len(entries)

    def start(self, function: str, outcome: Outcome = echo) -> None:
        """Finish everything that arrives on ``function``'s stream until stopped."""

        async def loop() -> None:
            while not self._stopping:
                await self.run_once(function, outcome)

        self._stopping = False
        self._task = asyncio.create_task(loop())

    async def stop(self) -> None:
        """Stop the loop; bounded: a cancel landing inside redis-py's cluster client can be
        swallowed by its retry, so the flag (checked each round) ends the loop too."""
        if self._task is not None:
            self._stopping = True
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=5.0)
            if self._task.done() and not self._task.cancelled():
                with contextlib.suppress(Exception):
                    self._task.result()  # e.g. the stream dropped under a blocked read
            self._task = None
