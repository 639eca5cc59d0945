"""Subscribe to one pub/sub channel for good, and resync after every (re)subscribe.

Pub/sub is not durable: a message published while the connection was down, or before the
first subscribe, is lost.  So each listener pairs its channel with durable state it can
re-read (the waiters' invocation records, the runners' cancels sets), and :class:`Subscriber`
calls that ``resync`` each time it has (re)subscribed: whatever the gap missed is found
then.  A lost connection is a Redis error of :class:`~streamfn.loop.Loop`: logged, retried
with the shared backoff, which a successful subscribe and resync reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from streamfn.loop import Loop

POLL = 1.0
"""Seconds one read waits for a message: a stop is noticed within this."""
CLOSE_TIMEOUT = 1.0


class Subscriber(Loop):
    """Calls ``on_message(data)`` for each message on ``channel`` until stopped.

    ``resync`` runs after every subscribe, before the first message of that connection is
    read.  ``data`` is the message body as redis-py gives it (bytes unless the client
    decodes responses).
    """

    def __init__(
        self,
        redis: Redis,
        channel: str,
        on_message: Callable[[Any], None],
        resync: Callable[[], Awaitable[None]],
        *,
        name: str,
        poll: float = POLL,
        logger: logging.Logger | None = None,
    ) -> None:
        # After an unexpected error (not Redis's): subscribe again a poll later.
        super().__init__(poll, logger=logger)
        self.name = name
        self.redis = redis
        self.channel = channel
        self.on_message = on_message
        self.resync = resync
        self.poll = poll

    async def tick(self) -> float:
        """One connection's life: subscribe, resync, then read until stopped or it fails."""
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
            await self.resync()
            self.backoff.reset()
            # The stop flag as well as the task's cancel: a cancellation that lands inside
            # redis-py's get_message can be swallowed, and the read must still end in a poll.
            while not self.stopping:
                message = await pubsub.get_message(timeout=self.poll)
                if message is not None and message.get("type") == "message":
                    self.on_message(message["data"])
        finally:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
        return 0.0
