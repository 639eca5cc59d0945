"""The shape every periodic runner loop shares: start/stop, wake-up, Redis trouble survived.

A subclass implements :meth:`Loop.tick`; it runs every ``interval`` seconds (or after the delay
it returns, or at once after :meth:`Loop.wake`).  A Redis or network error is logged and
retried with a bounded exponential backoff; any other exception is logged with its traceback
and the loop carries on, so one bad tick never ends a runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis.exceptions import RedisError

from streamfn.tasks import cancel_and_wait

__all__ = ["Backoff", "Loop", "cancel_and_wait"]

log = logging.getLogger("streamfn.runner")

BACKOFF_FIRST = 0.05
BACKOFF_MAX = 2.0


class Backoff:
    """Delays for consecutive failures: 50 ms doubling to at most 2 s; ``reset`` on success."""

    def __init__(self, first: float = BACKOFF_FIRST, cap: float = BACKOFF_MAX) -> None:
        self.first = first
        self.cap = cap
        self.failures = 0

    def next(self) -> float:
        delay = min(self.cap, self.first * 2.0**self.failures)
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0


class Loop:
    """A background task calling :meth:`tick` until :meth:`stop`."""

    name = "loop"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._backoff = Backoff()

    async def tick(self) -> float | None:
        """One round of work; returns the delay before the next (None: ``interval``)."""
        raise NotImplementedError

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    def wake(self) -> None:
        """Run the next tick now instead of after the delay."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                delay = await self.tick()
                self._backoff.reset()
            except (RedisError, OSError) as exc:
                delay = self._backoff.next()
                log.warning("%s: Redis error (%s); retrying in %.2f s", self.name, exc, delay)
            except Exception:
                delay = self.interval
                log.exception("%s failed; continuing", self.name)
            if delay is None:
                delay = self.interval
            if delay <= 0 or self._wake.is_set():
                await asyncio.sleep(0)  # let the rest of the loop run between busy rounds
            else:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
            self._wake.clear()
