"""The free slots a runner's reads share: the executor's, less those reads in flight may fill.

On a Redis Cluster a runner has one read per shard (:mod:`streamfn.runner.reader`); each takes
its share here before it blocks and gives back what it did not fill, so together they never
take more entries than the runner can run.
"""

from __future__ import annotations

import asyncio
import contextlib

from streamfn.runner.executor import Executor

RECHECK_S = 0.05
"""A read that found every slot held looks again after this, or when a share is given back."""


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
            async with asyncio.timeout(RECHECK_S):
                await self._given.wait()
