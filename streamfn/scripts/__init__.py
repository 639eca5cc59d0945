"""Lua script calls: the loader, one typed encoder per script, reply codes, and running calls.

| module               | holds                                                           |
|----------------------|-----------------------------------------------------------------|
| ``loader``           | ``SCRIPTS`` (each ``lua/*.lua``, discovered), ``Script``, ``Call`` |
| ``header``           | the ``KEYS[...]`` header grammar and ``KeyShape``               |
| ``replies``          | ``Reply``: every status and code a script returns               |
| ``invocation_calls`` | enqueue, promote, cancel, cancel_running, replay, discard, watch |
| ``outcome_calls``    | complete, fail, cancel_done                                     |
| ``lease_calls``      | extend, reclaim, release, reap_consumers                        |
| ``schedule_calls``   | schedule_upsert, _delete, _pause, _resume, _fire                |
| ``partial``          | ``PartialBatch``: a cluster batch some of whose masters failed  |
| ``cluster_durable``  | a durable batch on a cluster: each master's calls, then its WAIT |
| ``index_calls``      | reindex                                                         |

An encoder is the only place a script's KEYS and ARGV are built.  It returns a ``Call``, a
``(script, keys, args)`` tuple, which :func:`run` sends alone and :func:`run_batch` (or
:class:`streamfn.batching.ScriptBatcher`) sends with others in one pipelined round trip.
Every path checks the key count against the script's header before sending.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio import RedisCluster
from redis.crc import key_slot
from redis.exceptions import NoScriptError, RedisError, ResponseError

from streamfn import resp
from streamfn.connection import AnyRedis
from streamfn.durable import Durability
from streamfn.scripts.cluster_durable import Settled, run_durable
from streamfn.scripts.loader import SCRIPTS, Arg, Call, Pair, Script, ScriptSet
from streamfn.scripts.partial import PartialBatch, settle
from streamfn.scripts.replies import Reply

__all__ = [
    "SCRIPTS",
    "Arg",
    "Call",
    "PartialBatch",
    "Reply",
    "Script",
    "ScriptSet",
    "run",
    "run_batch",
]


async def run(redis: AnyRedis, call: Call) -> Any:
    """Send one call (EVALSHA through redis-py), reloading the script after a NOSCRIPT."""
    script, keys, args = call
    return await script.run(redis, keys, args)


def _is_noscript(value: object) -> bool:
    return isinstance(value, NoScriptError) or (
        isinstance(value, ResponseError) and str(value).startswith("NOSCRIPT")
    )


async def run_batch(
    redis: AnyRedis,
    calls: Sequence[Call],
    *,
    durability: Durability | None = None,
    settled: Settled | None = None,
) -> list[Any]:
    """Run many calls of one script in one pipelined round trip (:mod:`streamfn.resp`).

    A NOSCRIPT reply means that call did not run, so those calls alone are retried after the
    script is loaded.  Other errors are returned in place, as exception values.  Calls of
    different scripts raise ValueError (send one batch per script).  With ``durability``, a
    ``WAIT`` ends each round trip, on the connection that carried its writes, and replies the
    replicas did not confirm become errors (:mod:`streamfn.durable`).  On a cluster that is
    one connection and one WAIT per master, and each master's WAIT confirms its own calls
    (:mod:`streamfn.scripts.cluster_durable`); ``settled(i, reply)`` is then called for each
    call as soon as its master's WAIT is back, before the slowest master's (the returned list
    holds the same replies).  Elsewhere replies are only returned.
    """
    if not calls:
        return []
    script = calls[0][0]
    pairs: list[Pair] = [(keys, args) for other, keys, args in calls if other is script]
    if len(pairs) != len(calls):
        other = next(c[0] for c in calls if c[0] is not script)
        raise ValueError(f"one batch runs one script: {script.name} and {other.name} were mixed")
    if durability is not None and isinstance(redis, RedisCluster):
        return await run_durable(redis, script, pairs, durability, settled)
    tail = () if durability is None else (durability.command(),)
    results = await _send(redis, script, pairs, *tail)
    waits = results[len(pairs) :]
    del results[len(pairs) :]
    retry = [i for i, r in enumerate(results) if _is_noscript(r)]
    if retry:
        await redis.script_load(script.source)
        again = await _send(redis, script, [pairs[i] for i in retry], *tail)
        waits += again[len(retry) :]
        for i, value in zip(retry, again[: len(retry)], strict=True):
            results[i] = value
    return results if durability is None else durability.confirm(results, waits)


async def _send(redis: AnyRedis, script: Script, pairs: Sequence[Pair], *tail: bytes) -> list[Any]:
    # Kept here, taking (keys, args) pairs: tests/support/script_spy.py patches it.  ``tail``:
    # encoded commands sent after the calls on the same connection (their replies come last);
    # run_batch gives one only to a single node: a durable cluster batch is run_durable's.
    if isinstance(redis, RedisCluster):
        return await _send_each(redis, script, pairs)
    sha, fewest, most = script.sha, script.shape.required, script.most_keys
    commands: list[bytes] = []
    append = commands.append
    pack = resp.pack
    try:  # hiredis directly, not resp.encode: ~500 instructions a call less
        for keys, args in pairs:
            n = len(keys)
            if n < fewest or n > most:
                script.check(n)
            append(pack(("EVALSHA", sha, n, *keys, *args)))
    except TypeError:  # an argument hiredis does not pack: encode them all the slow way
        commands = [resp.encode(("EVALSHA", sha, len(keys), *keys, *args)) for keys, args in pairs]
    commands.extend(tail)
    return await resp.execute(redis, b"".join(commands), len(commands))


CLUSTER_CONCURRENCY = 16
"""Slots of one batch sent to at once on a cluster: well inside a node's connection pool."""


async def _send_each(redis: RedisCluster, script: Script, pairs: Sequence[Pair]) -> list[Any]:
    """On a cluster the pre-encoded pipeline steps aside: each call goes through redis-py's
    cluster client, which routes it by its first key's slot and follows MOVED and ASK.

    Calls of one slot run in batch order, one after another (as a pipeline would run them);
    slots run side by side.  Replies keep :func:`run_batch`'s contract: a refused call's
    error in place, a connection error raised; when only some slots failed so, as
    :class:`PartialBatch`, which carries the others' replies.
    """
    for keys, _ in pairs:  # all checked before any is sent, as on the pipelined path
        script.check(len(keys))
    results: list[Any] = [None] * len(pairs)
    by_slot: dict[int, list[int]] = {}
    for i, (keys, _) in enumerate(pairs):
        by_slot.setdefault(key_slot(keys[0].encode()) if keys else -1, []).append(i)
    gate = asyncio.Semaphore(CLUSTER_CONCURRENCY)
    failures: list[RedisError | OSError] = []

    async def in_order(indexes: list[int]) -> None:
        async with gate:
            for n, i in enumerate(indexes):
                keys, args = pairs[i]
                try:
                    results[i] = await script.run(redis, keys, args)
                except ResponseError as exc:
                    results[i] = exc
                except (RedisError, OSError) as exc:  # this slot's master: the rest unsent
                    failures.append(exc)
                    for j in indexes[n:]:
                        results[j] = exc
                    return

    await asyncio.gather(*(in_order(indexes) for indexes in by_slot.values()))
    return settle(results, failures)
