"""streamfn.resp: the bytes it sends equal redis-py's, and replies come back in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError

from streamfn import resp
from streamfn.keys import Keys

pytestmark = pytest.mark.single_node  # the one-node path; the cluster tier skips it


def encode_all(commands: Sequence[Sequence[Any]]) -> tuple[bytes, int]:
    return b"".join(resp.encode(c) for c in commands), len(commands)


def test_encode_matches_redis_py() -> None:
    args = ["EVALSHA", "ab" * 20, 2, "{ns:f}:stream", "ké", b"\x00\xffraw", 0, -17, 1.5, ""]
    args += [63, 64, 10**12, "x" * 511, "y" * 512, b"z" * 70_000, bytearray(b"ba")]
    expected = b"".join(Connection().pack_command(*args))
    assert resp.encode(args) == expected


def test_encode_refuses_what_redis_cannot_hold() -> None:
    with pytest.raises(TypeError, match="cannot send NoneType"):
        resp.encode(["SET", "k", None])


async def test_replies_in_order_with_errors_in_place(redis: Redis, keys: Keys) -> None:
    key = keys.stream("resp")
    commands = [("SET", key, "v"), ("GET", key), ("HGET", key, "f"), ("EVALSHA", "0" * 40, 0)]
    commands += [("ECHO", str(i)) for i in range(500)]
    payload, count = encode_all(commands)
    try:
        replies = await resp.execute(redis, payload, count)
    finally:
        await redis.delete(key)
    assert replies[:2] == [b"OK", b"v"]
    assert isinstance(replies[2], ResponseError) and "WRONGTYPE" in str(replies[2])
    assert isinstance(replies[3], NoScriptError)
    assert replies[4:] == [str(i).encode() for i in range(500)]


async def test_without_the_fast_path_replies_are_the_same(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback when redis-py hides its reader: every reply through read_response."""
    commands = [("ECHO", str(i)) for i in range(300)] + [("EVALSHA", "0" * 40, 0), ("PING",)]
    payload, count = encode_all(commands)
    fast = await resp.execute(redis, payload, count)
    monkeypatch.setattr(resp, "buffered_reader", lambda conn: None)
    slow = await resp.execute(redis, payload, count)
    assert slow[:300] == fast[:300] == [str(i).encode() for i in range(300)]
    assert isinstance(slow[300], NoScriptError) and slow[301] == b"PONG"


async def test_connection_error_is_raised_and_the_pool_recovers(redis: Redis) -> None:
    own, _ = encode_all([("CLIENT", "ID")])
    (client_id,) = await resp.execute(redis, own, 1)
    # The connection kills itself: Redis answers the kill, then closes before the PING.
    payload, count = encode_all(
        [("CLIENT", "KILL", "ID", str(client_id), "SKIPME", "no"), ("PING",)]
    )
    with pytest.raises(RedisConnectionError):
        await resp.execute(redis, payload, count)
    ping, _ = encode_all([("PING",)])
    assert await resp.execute(redis, ping, 1) == [b"PONG"]


def test_hiredis_and_the_fallback_encode_alike() -> None:
    """hiredis packs what it can; a bytearray anywhere sends the command to the fallback."""
    args = ("EVALSHA", "ab" * 20, 2, "k1", "ké", 7, -1, 0.25, b"\x00raw", memoryview(b"mv"))
    expected = b"".join(Connection().pack_command(*args))
    assert resp.encode(args) == resp.encode(list(args)) == expected
    assert resp.encode((*args, bytearray(b"ba"))) == b"".join(
        Connection().pack_command(*args, b"ba")
    )
