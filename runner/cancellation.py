"""Canceller: stop running invocations that ``DELETE /invocations/{id}`` asked to stop.

``cancel_running.lua`` records each request in the function's ``cancels`` set and publishes
"<invocation id> <entry id>" on the cancel channel.  This runner listens on that channel
(:class:`~streamfn.subscriber.Subscriber`) and stops the invocation at once if it holds the
entry (:meth:`Executor.cancel`: an async handler is cancelled, an isolated worker killed); the
executor then records ``cancelled`` through the fenced ``cancel_done.lua``.  Pub/sub is not
durable, so every ``interval`` the sets of the functions this runner holds work for are also
read, and at once after each (re)subscribe: that catches a message missed during a reconnect
and an entry reclaimed from a dead runner after it was asked to stop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.loop import Loop
from streamfn.names import queue_of
from streamfn.runner.executor import Executor
from streamfn.runner.jobs import Leases
from streamfn.subscriber import Subscriber

log = logging.getLogger("streamfn.runner.cancellation")

SWEEP_INTERVAL = 1.0
SWEEP_LIMIT = 1000  # requests read per function per sweep


class Canceller(Loop):
    """The cancel-channel listener, plus a periodic sweep of the cancels sets."""

    name = "canceller"
    logger = log

    def __init__(
        self,
        redis: AnyRedis,
        keys: Keys,
        executor: Executor,
        leases: Leases,
        interval: float = SWEEP_INTERVAL,
    ) -> None:
        super().__init__(interval)
        self.redis = redis
        self.keys = keys
        self.executor = executor
        self.leases = leases
        self.stopped = 0  # invocations this runner stopped on request
        self.listener = Subscriber(
            redis,
            keys.cancel_channels(),
            self._on_message,
            self._resync,
            name="cancel listener",
            logger=log,
        )

    async def start(self) -> None:
        await super().start()
        await self.listener.start()

    async def stop(self) -> None:
        await self.listener.stop()
        await super().stop()

    def listen_to(self, queues: Iterable[str]) -> None:
        """Hear the cancel channels of these queues too (partition queues have their own)."""
        self.listener.set_channels(self.keys.cancel_channels(queues))

    def request(self, queue: str, entry_id: str) -> bool:
        """Stop ``entry_id`` of ``queue`` if this runner is running it."""
        if self.executor.cancel(queue, entry_id):
            self.stopped += 1
            log.info("%s: stopping entry %s on request", queue, entry_id)
            return True
        return False

    def _on_message(self, data: Any) -> None:
        text = data.decode(errors="replace") if isinstance(data, bytes) else str(data)
        parts = text.split()
        if len(parts) != 2:
            return
        queue = queue_of(parts[0])
        if queue is not None:
            self.request(queue, parts[1])

    async def _resync(self) -> None:
        self.wake()  # requests made while we were not subscribed: sweep now

    async def tick(self) -> None:
        functions = list(self.leases.by_function)
        if not functions:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for function in functions:
                pipe.zrange(self.keys.cancels(function), 0, SWEEP_LIMIT - 1)
            rows: list[list[bytes]] = await pipe.execute()
        for function, entries in zip(functions, rows, strict=True):
            for entry in entries:
                self.request(function, entry.decode())
