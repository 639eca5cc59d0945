"""Helpers shared by the Lua script tests: Redis clock, deliveries, record reads, pub/sub.

Every time a test asserts comes from Redis ``TIME`` (the scripts' clock), never the host's.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterPubSub

from streamfn.keys import GROUP, Keys
from streamfn.names import new_invocation_id
from streamfn.rdb import RDB, Completion

FN = "echo"
"""The function every script test works on (any valid name would do)."""


async def redis_ms(redis: Redis) -> int:
    """Redis ``TIME`` in epoch ms, computed exactly as the scripts compute ``now``."""
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def record(redis: Redis, keys: Keys, invocation_id: str, fn: str = FN) -> dict[str, str]:
    """The invocation hash, decoded to str (empty when the key does not exist)."""
    raw: Any = await redis.hgetall(keys.invocation(fn, invocation_id))
    return {k.decode(): v.decode() for k, v in raw.items()}


async def entries(redis: Redis, stream: str) -> list[tuple[str, dict[str, str]]]:
    """Every entry of a (small) stream, decoded."""
    rows: Any = await redis.xrange(stream)
    return [(e.decode(), {k.decode(): v.decode() for k, v in f.items()}) for e, f in rows]


async def pending(redis: Redis, stream: str) -> list[dict[str, Any]]:
    """The group's whole pending list (small in tests): entry, consumer, idle ms, deliveries."""
    rows: Any = await redis.xpending_range(stream, GROUP, min="-", max="+", count=10_000)
    return [
        {
            "entry": r["message_id"].decode(),
            "consumer": r["consumer"].decode(),
            "idle": int(r["time_since_delivered"]),
            "deliveries": int(r["times_delivered"]),
        }
        for r in rows
    ]


async def enqueue_now(rdb: RDB, count: int = 1, *, notify: bool = False) -> list[str]:
    """Queue ``count`` fresh invocations of :data:`FN`; returns their ids."""
    ids = [new_invocation_id(FN) for _ in range(count)]
    for i in ids:
        done = await rdb.enqueue(FN, i, b'{"n":1}', notify=notify)
        assert done.status == "queued"
    return ids


@dataclass(frozen=True, slots=True)
class Delivered:
    entry_id: str
    invocation_id: str


async def deliver(redis: Redis, keys: Keys, consumer: str, count: int = 1) -> list[Delivered]:
    """XREADGROUP as a runner would: the next ``count`` new entries go to ``consumer``."""
    reply: Any = await redis.xreadgroup(GROUP, consumer, {keys.stream(FN): ">"}, count=count)
    if not reply:
        return []
    return [Delivered(e.decode(), f[b"id"].decode()) for e, f in reply[0][1]]


async def run_one(redis: Redis, keys: Keys, rdb: RDB, consumer: str = "r1") -> Delivered:
    """Queue one invocation and deliver it to ``consumer``: the state complete/fail start from."""
    (invocation_id,) = await enqueue_now(rdb)
    (got,) = await deliver(redis, keys, consumer)
    assert got.invocation_id == invocation_id
    return got


def success(d: Delivered, result: bytes = b'{"ok":true}', duration_ms: int = 7) -> Completion:
    return Completion(FN, d.entry_id, d.invocation_id, duration_ms, result=result)


async def make_due(redis: Redis, keys: Keys, ids: Sequence[str], fn: str = FN) -> None:
    """Move parked timers into the past so they are due now, without waiting for them."""
    past = await redis_ms(redis) - 1
    await redis.zadd(keys.timers(fn), dict.fromkeys(ids, past), xx=True)


async def set_idle(redis: Redis, stream: str, consumer: str, entry_id: str, idle_ms: int) -> None:
    """Pretend ``entry_id`` has been idle ``idle_ms``: XCLAIM JUSTID keeps its delivery count."""
    await redis.xclaim(stream, GROUP, consumer, 0, [entry_id], idle=idle_ms, justid=True)


def assert_pttl(value: int, ttl_ms: int, slack_ms: int = 2000) -> None:
    """A PTTL read just after the script set ``ttl_ms``."""
    assert ttl_ms - slack_ms < value <= ttl_ms, (value, ttl_ms)


class Listener:
    """Messages published on one shard channel, read up to a marker we publish ourselves.

    Redis delivers messages in execution order, so once our marker arrives every SPUBLISH a
    script made before it has arrived too: "nothing was published" needs no sleep.
    """

    def __init__(self, redis: Redis, pubsub: PubSub, channel: str) -> None:
        self.redis, self.pubsub, self.channel = redis, pubsub, channel

    async def drain(self, timeout: float = 5.0) -> list[bytes]:
        marker = f"marker-{uuid.uuid4().hex}".encode()
        await self.redis.spublish(self.channel, marker)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen: list[bytes] = []
        while (left := deadline - loop.time()) > 0:
            msg = await _next(self.pubsub, left)
            if msg is None:
                continue
            if msg["data"] == marker:
                return seen
            seen.append(msg["data"])
        raise AssertionError(f"marker not received on {self.channel} within {timeout}s")


async def _next(pubsub: PubSub, timeout: float, confirmations: bool = False) -> Any:
    if isinstance(pubsub, ClusterPubSub):
        return await pubsub.get_sharded_message(
            ignore_subscribe_messages=not confirmations, timeout=timeout
        )
    return await pubsub.get_message(ignore_subscribe_messages=not confirmations, timeout=timeout)


@asynccontextmanager
async def listening(redis: Redis, channel: str, timeout: float = 5.0) -> AsyncIterator[Listener]:
    """SSUBSCRIBE and wait for Redis to confirm, so no later SPUBLISH can be missed."""
    pubsub = redis.pubsub()
    try:
        await pubsub.ssubscribe(channel)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"SUBSCRIBE {channel} not confirmed within {timeout}s")
            msg = await _next(pubsub, left, confirmations=True)
            if msg is not None and msg["type"] == "ssubscribe":
                break
        yield Listener(redis, pubsub, channel)
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
