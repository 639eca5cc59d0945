"""Subscribe to a set of shard channels for good, and resync after every (re)subscribe.

The channels are sharded (SSUBSCRIBE; the scripts SPUBLISH): on a Redis Cluster redis-py's
:class:`~redis.asyncio.cluster.ClusterPubSub` holds one connection per node that owns one of
them and follows slot moves; on one node it is one connection.

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
from collections.abc import Awaitable, Callable, Sequence

from redis.asyncio import RedisCluster
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterPubSub

from streamfn.connection import AnyRedis
from streamfn.loop import Loop
from streamfn.tasks import cancel_and_wait

POLL = 1.0
"""Seconds one read waits for a message: a stop is noticed within this."""
CLOSE_TIMEOUT = 1.0


class Subscriber(Loop):
    """Calls ``on_message(data)`` for each message on ``channels`` until stopped, or
    ``on_message(channel, data)`` with ``with_channel`` (the channel name as str).

    ``resync`` runs after every subscribe, before the first message of that connection is
    read.  ``data`` is the message body as redis-py gives it (bytes unless the client
    decodes responses).
    """

    def __init__(
        self,
        redis: AnyRedis,
        channels: Sequence[str],
        on_message: Callable[..., None],
        resync: Callable[[], Awaitable[None]],
        *,
        name: str,
        poll: float = POLL,
        logger: logging.Logger | None = None,
        with_channel: bool = False,
    ) -> None:
        # After an unexpected error (not Redis's): subscribe again a poll later.
        super().__init__(poll, logger=logger)
        self.name = name
        self.redis = redis
        self.channels = list(channels)
        self._moved = False  # set_channels changed them: the current subscription ends
        self.on_message = on_message
        self.with_channel = with_channel
        self.resync = resync
        self.poll = poll

    def set_channels(self, channels: Sequence[str]) -> None:
        """Listen on ``channels`` from now on: a change ends the current subscription within a
        poll, and the next one subscribes to the new set and resyncs (nothing is missed)."""
        if list(channels) != self.channels:
            self.channels = list(channels)
            self._moved = True

    async def tick(self) -> float:
        """One connection's life: subscribe, resync, then read until stopped, moved to other
        channels (:meth:`set_channels`), or it fails."""
        self._moved = False
        if isinstance(self.redis, RedisCluster):
            # A cluster pub/sub routes by the client's slot map, which a client that has run
            # no command yet lacks ("slot not covered"); a no-op once learnt.
            await self.redis.initialize()
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.ssubscribe(*self.channels)
            await self.resync()
            self.backoff.reset()
            if isinstance(pubsub, ClusterPubSub):
                # One plain PubSub per node holding some of the channels.  Each is read on
                # its own: ClusterPubSub's own read visits the nodes in turn, a full timeout
                # each, which delays a message by up to (nodes - 1) polls.
                reads = [
                    asyncio.create_task(self._read(node))
                    for node in pubsub.node_pubsub_mapping.values()
                ]
                try:
                    done, _ = await asyncio.wait(reads, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for read in reads:
                        if not read.done():
                            await cancel_and_wait(read)
                for read in done:
                    read.result()  # the first failure, as on one node
            else:
                await self._read(pubsub)
        finally:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
        return 0.0

    async def _read(self, pubsub: PubSub) -> None:
        # The stop flag as well as the task's cancel: a cancellation that lands inside
        # redis-py's get_message can be swallowed, and the read must still end in a poll.
        while not self.stopping and not self._moved:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=self.poll)
            if message is None:
                continue
            kind = message.get("type")
            if kind == "smessage":
                if self.with_channel:
                    channel = message["channel"]
                    name = channel.decode() if isinstance(channel, bytes) else str(channel)
                    self.on_message(name, message["data"])
                else:
                    self.on_message(message["data"])
            elif kind == "sunsubscribe":  # the slot moved (failover, resharding): start over
                raise ConnectionError(f"{self.name}: a shard channel moved to another node")
