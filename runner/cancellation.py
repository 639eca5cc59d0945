"""Canceller: stop running invocations that ``DELETE /invocations/{id}`` asked to stop.

``cancel_running.lua`` records each request in the function's ``cancels`` set and publishes
"<invocation id> <entry id>" on the cancel channel.  This runner listens on that channel and
stops the invocation at once if it holds the entry (:meth:`Executor.cancel`: an async handler
is cancelled, an isolated worker killed); the executor then records ``cancelled`` through the
fenced ``cancel_done.lua``.  Pub/sub is not durable, so every ``interval`` the sets of the
functions this runner holds work for are also read: that catches a message missed during a
reconnect and an entry reclaimed from a dead runner after it was asked to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from streamfn.keys import Keys
from streamfn.names import function_of
from streamfn.runner.executor import Executor
from streamfn.runner.jobs import Leases
from streamfn.runner.loop import Backoff, Loop, cancel_and_wait

log = logging.getLogger("streamfn.runner.cancellation")

SWEEP_INTERVAL = 1.0
SWEEP_LIMIT = 1000  # requests read per function per sweep
LISTEN_POLL = 1.0


class Canceller(Loop):
    """The cancel-channel listener, plus a periodic sweep of the cancels sets."""

    name = "canceller"

    def __init__(
        self,
        redis: Redis,
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
        self._listener: asyncio.Task[None] | None = None
        self._listening = True

    async def start(self) -> None:
        await super().start()
        self._listener = asyncio.create_task(self._listen(), name="cancel-listener")

    async def stop(self) -> None:
        # A flag as well as the cancel: a cancellation that lands inside redis-py's
        # get_message can be swallowed, and the listener must still end within a poll.
        self._listening = False
        if self._listener is not None:
            await cancel_and_wait(self._listener)
            self._listener = None
        await super().stop()

    def request(self, function: str, entry_id: str) -> bool:
        """Stop ``entry_id`` of ``function`` if this runner is running it."""
        if self.executor.cancel(function, entry_id):
            self.stopped += 1
            log.info("%s: stopping entry %s on request", function, entry_id)
            return True
        return False

    def _on_message(self, data: Any) -> None:
        text = data.decode(errors="replace") if isinstance(data, bytes) else str(data)
        parts = text.split()
        if len(parts) != 2:
            return
        function = function_of(parts[0])
        if function is not None:
            self.request(function, parts[1])

    async def _listen(self) -> None:
        backoff = Backoff()
        while self._listening:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.keys.cancel_channel)
                self.wake()  # requests made while we were not subscribed: sweep now
                backoff.reset()
                while self._listening:
                    message = await pubsub.get_message(timeout=LISTEN_POLL)
                    if message is not None and message.get("type") == "message":
                        self._on_message(message["data"])
            except (RedisError, OSError) as exc:
                delay = backoff.next()
                log.warning("cancel listener: Redis error (%s); retrying in %.2f s", exc, delay)
                await asyncio.sleep(delay)
            finally:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(1.0):
                        await pubsub.aclose()  # type: ignore[no-untyped-call]

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
