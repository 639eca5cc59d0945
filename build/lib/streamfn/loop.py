"""The shape every background loop shares: start/stop, wake-up, Redis trouble survived.

A subclass implements :meth:`Loop.tick`; it runs every ``interval`` seconds (or after the delay
it returns, or at once after :meth:`Loop.wake`).  A Redis or network error is logged and
retried with a bounded exponential backoff; any other exception is logged with its traceback
and the loop carries on, so one bad tick never ends a process.  The runner's loops, the
gateway's catalog refresher, the waiter hub and the pub/sub listeners
(:mod:`streamfn.subscriber`) are all one of these.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from redis.exceptions import RedisClusterException, RedisError

from streamfn.tasks import cancel_and_wait

__all__ = ["Backoff", "Loop", "Periodic"]

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
    """A background task calling :meth:`tick` until :meth:`stop`.

    ``delay_first``: wait one ``interval`` before the first tick (for a loop whose owner did
    the first round itself while starting).  ``logger``: where a failed tick is reported (a
    subclass may name its module's logger as the class attribute instead).
    """

    name = "loop"
    logger: logging.Logger = logging.getLogger("streamfn.loop")

    def __init__(
        self, interval: float, *, delay_first: bool = False, logger: logging.Logger | None = None
    ) -> None:
        self.interval = interval
        self.delay_first = delay_first
        if logger is not None:
            self.logger = logger
        self.backoff = Backoff()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

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

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called: a long tick checks it to end within a poll."""
        return self._stopping

    async def _run(self) -> None:
        if self.delay_first:
            await self._pause(self.interval)
        while not self._stopping:
            await self._pause(await self._round())

    async def _round(self) -> float:
        try:
            delay = await self.tick()
            self.backoff.reset()
        except (RedisError, RedisClusterException, OSError) as exc:
            delay = self.backoff.next()
            self.logger.warning("%s: Redis error (%s); retrying in %.2f s", self.name, exc, delay)
        except Exception:
            delay = self.interval
            self.logger.exception("%s failed; continuing", self.name)
        return self.interval if delay is None else delay

    async def _pause(self, delay: float) -> None:
        if delay <= 0 or self._wake.is_set():
            await asyncio.sleep(0)  # let the rest of the loop run between busy rounds
        else:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
        self._wake.clear()


class Periodic(Loop):
    """A :class:`Loop` calling ``work`` every ``interval`` seconds (after one interval first).

    For an owner that did the first round while starting, e.g. the catalog's first read.
    ``work`` handles the errors it expects itself when it must log them its own way.
    """

    def __init__(
        self,
        name: str,
        interval: float,
        work: Callable[[], Awaitable[None]],
        *,
        logger: logging.Logger | None = None,
    ) -> None:
        super().__init__(interval, delay_first=True, logger=logger)
        self.name = name
        self.work = work

    async def tick(self) -> None:
        await self.work()
