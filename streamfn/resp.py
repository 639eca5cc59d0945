"""Pipelined commands sent as pre-encoded RESP: the hot paths' way to talk to Redis.

redis-py's pipeline encodes each argument through several Python calls and wraps each reply
in bookkeeping; for the batches the gateway and the runners send (hundreds of script calls,
or one call carrying hundreds of items) that costs ~4 µs per invocation.  :func:`encode`
builds the same bytes with hiredis' ``pack_command`` (C; ~2.6 µs for a 15-argument EVALSHA
against ~4.6 µs for the Python encoder it replaced), and :func:`execute` sends them on one
pooled connection and reads the replies with redis-py's own parser (so timeouts, health
checks and error types stay redis-py's).

Reading: the first reply goes through ``read_response``; the replies behind it are usually
already buffered and are taken straight from the connection's hiredis reader, a redis-py
internal that only :mod:`streamfn.redis_private` touches (pinned to the redis-py versions it
was checked on).  Without it every reply goes through ``read_response`` (slower, same results).

A connection that fails while sending or reading is dropped, never returned to the pool with
replies still in flight.  Nothing is retried here: once bytes went out a script may have run,
so callers decide (the completer retries with a backoff, the gateway answers 503).  A pooled
connection the server closed while idle is replaced when the pool hands it out (redis-py
checks it for EOF), so a Redis restart does not fail the first batch after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hiredis import pack_command as pack
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from streamfn.redis_private import NOT_ENOUGH_DATA, buffered_reader

Arg = Any  # str | bytes | int | float

__all__ = ["encode", "exchange", "execute", "pack"]


def encode(args: Sequence[Arg]) -> bytes:
    """One command as a RESP array of bulk strings (str as UTF-8, int and float as text).

    :func:`pack` (hiredis) takes a tuple of str, bytes, int, float and memoryview; anything
    else (bytearray, or a value Redis cannot hold) takes :func:`_encode`, which packs the rest
    and refuses None, bool and other types with a TypeError naming the value.
    """
    try:
        packed: bytes = pack(args if type(args) is tuple else tuple(args))
    except TypeError:
        return _encode(args)
    return packed


def _encode(args: Sequence[Arg]) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    append = out.append
    for arg in args:
        kind = type(arg)
        if kind is str:
            data = arg.encode()
        elif kind is bytes:
            data = arg
        elif kind is int:
            data = b"%d" % arg
        elif kind is float:
            data = repr(arg).encode()
        elif isinstance(arg, bytes | bytearray | memoryview):
            data = bytes(arg)
        elif isinstance(arg, str):  # a StrEnum member, as hiredis packs it
            data = arg.encode()
        else:
            raise TypeError(f"cannot send {kind.__name__} to Redis: {arg!r}")
        append(b"$%d\r\n" % len(data))
        append(data)
        append(b"\r\n")
    return b"".join(out)


async def execute(redis: Redis, payload: bytes, count: int) -> list[Any]:
    """Send ``count`` encoded commands at once on a pooled connection; their replies in order.

    A command Redis refused comes back in place as its :class:`ResponseError`; a connection
    or timeout error ends the whole call.
    """
    pool = redis.connection_pool
    conn: AbstractConnection = await pool.get_connection()  # type: ignore[no-untyped-call]
    try:
        return await exchange(conn, payload, count)
    finally:
        await pool.release(conn)


async def exchange(conn: AbstractConnection, payload: bytes, count: int) -> list[Any]:
    """:func:`execute` on a connection the caller holds (a cluster node's, for instance).

    On any error the connection is disconnected before the error is raised: replies may still
    be in flight on it, so it must not carry another command as it is.
    """
    try:
        await conn.send_packed_command(payload)
        replies: list[Any] = []
        gets = None
        while len(replies) < count:
            reply = gets() if gets is not None else NOT_ENOUGH_DATA
            if reply is NOT_ENOUGH_DATA:
                reply = await _read(conn)
                gets = buffered_reader(conn)
            elif isinstance(reply, RedisConnectionError):
                raise reply
            replies.append(reply)
        return replies
    except BaseException:
        await conn.disconnect()
        raise


async def _read(conn: AbstractConnection) -> Any:
    try:
        return await conn.read_response()
    except ResponseError as exc:
        return exc
