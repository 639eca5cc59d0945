"""Durable acknowledgement on a Redis Cluster: each master's calls, then its ``WAIT``, on one
connection of that master.

``WAIT numreplicas timeout`` confirms the writes of the connection it is sent on, and only
those.  The non-durable cluster path (:func:`streamfn.scripts._send_each`) sends each call
through redis-py's cluster client, on whichever pooled connection of the node is free, so no
one connection carried a node's writes.  Here a batch is grouped by the master that owns each
call's slot (its first key's, from the client's slot map); each master lends one connection
of its pool (:func:`streamfn.redis_private.node_connection`), and that master's calls
(EVALSHA, in batch order, so one slot's calls run in order) followed by one ``WAIT`` go out
on it as one pipelined write.  All masters at once: one round trip per master, not per call.
Each master's replies are final when its WAIT is back, and a caller may take them then
(``settled``), rather than wait for the slowest master's replicas.

**Confirmation is per master.**  A call's write lives on one master, and only that master's
WAIT says anything about it.  So the calls of a master whose WAIT saw fewer replicas than
required become :class:`~streamfn.errors.ReplicationUnconfirmed` (:meth:`Durability.confirm`
on that master's replies alone); the calls of the other masters keep their replies.  A slow
replica of one master does not refuse the enqueues another master's replicas confirmed.

What can come back instead of a reply, and what is done:

* ``NOSCRIPT`` (a promoted or restarted master, a flushed cache): the call did not run.  On the
  same connection, ``SCRIPT LOAD``, those calls and a ``WAIT`` again (one more round trip).
  The last WAIT covers every write of the connection, the first round's too, so it decides.
* ``MOVED`` or ``ASK`` (the slot moved since the map was read: a failover, a resharding): the
  call did not run.  MOVED patches the slot map (as redis-py does); the redirected calls are
  grouped again and sent the same way (``ASKING`` before each asked call), :data:`ROUNDS`
  rounds in all.  Still redirected after that, they fail with ``RedisClusterException`` (the
  gateway answers 503; nothing ran, so a retry is safe).
* A connection error or a timeout: that master's calls fail with it (their scripts may have
  run), the slot map is refreshed before the next batch (as redis-py does after a connection
  error), and the other masters' calls are answered: :class:`PartialBatch`, as on the
  non-durable path.  ``MaxConnectionsError`` (the node's pool is busy) fails its calls too,
  without the refresh.
* ``CLUSTERDOWN`` (between a master's failure and its replica's promotion every node answers
  it) or ``TRYAGAIN`` (a multi-key call on a slot being migrated): the call did not run.  It
  goes again in the next round, :data:`PAUSE` later (after CLUSTERDOWN with a fresh slot map),
  as redis-py's cluster client retries them; still refused when the rounds run out, that
  refusal is its answer (503).
* Any other refusal: in place, as on the non-durable path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.connection import Connection
from redis.exceptions import (
    AskError,
    ClusterDownError,
    MaxConnectionsError,
    MovedError,
    NoScriptError,
    RedisClusterException,
    RedisError,
    SlotNotCoveredError,
    TryAgainError,
)

from streamfn import resp
from streamfn.durable import Durability
from streamfn.redis_private import node_connection, node_failed, refresh_slots, slot_moved
from streamfn.scripts.loader import Pair, Script
from streamfn.scripts.partial import settle

ROUNDS = 3
"""Rounds a batch gets in all: the first, then re-sends of calls redirected or refused for now."""
PAUSE = 0.25
"""Seconds before a round that re-sends a call refused with CLUSTERDOWN or TRYAGAIN (redis-py's
cluster client waits as long after CLUSTERDOWN)."""

ASKING = resp.encode(("ASKING",))

Settled = Callable[[int, Any], None]
"""Called with a call's index in the batch and its final reply (or error), once it is final."""

Item = tuple[int, ClusterNode | None]
"""A call to send: its index in the batch, and the node an ``ASK`` named (None: the map's)."""


@dataclass(slots=True)
class _Batch:
    redis: RedisCluster
    script: Script
    pairs: Sequence[Pair]
    durability: Durability
    results: list[Any]
    settled: Settled | None
    failures: list[RedisError | OSError] = field(default_factory=list)
    again: list[Item] = field(default_factory=list)
    """Calls that did not run and go in the next round."""
    pause: bool = False
    """Whether the next round waits :data:`PAUSE` first."""


async def run_durable(
    redis: RedisCluster,
    script: Script,
    pairs: Sequence[Pair],
    durability: Durability,
    settled: Settled | None = None,
) -> list[Any]:
    """Every call's reply (or error) in place, each confirmed by its master's ``WAIT``.

    :func:`streamfn.scripts.run_batch`'s contract: refusals in place, a connection error
    raised, or :class:`PartialBatch` when only some masters failed so.  ``settled`` hears of
    each reply a master's WAIT confirmed (or did not) as soon as that WAIT is back.
    """
    for keys, _ in pairs:  # all checked before any is sent, as on the other paths
        script.check(len(keys))
    batch = _Batch(redis, script, pairs, durability, [None] * len(pairs), settled)
    todo: list[Item] = [(i, None) for i in range(len(pairs))]
    for _ in range(ROUNDS):
        if batch.pause:
            batch.pause = False
            await asyncio.sleep(PAUSE)
        await redis.initialize()  # a no-op unless an error asked for a fresh slot map
        groups = _by_node(batch, todo)
        await asyncio.gather(*(_node_round(batch, node, items) for node, items in groups.items()))
        todo, batch.again = sorted(batch.again, key=lambda item: item[0]), []
        if not todo:
            break
    for i, _ in todo:
        if isinstance(batch.results[i], AskError):  # not CLUSTERDOWN, TRYAGAIN: they say it
            batch.results[i] = RedisClusterException(
                f"{script.name}: its slot moved {ROUNDS} times in one batch (a failover or a "
                f"resharding under way: {batch.results[i]}); it did not run: retry"
            )
    return settle(batch.results, batch.failures)


def _by_node(batch: _Batch, todo: list[Item]) -> dict[ClusterNode, list[Item]]:
    """The calls to send, by the node that serves them, each node's in batch order."""
    groups: dict[ClusterNode, list[Item]] = {}
    for i, asked in todo:
        keys = batch.pairs[i][0]
        try:
            node = asked or _master_of(batch.redis, keys)
        except SlotNotCoveredError as exc:  # no master for it in the map: nothing sent
            batch.results[i] = exc
            continue
        groups.setdefault(node, []).append((i, asked))
    return groups


def _master_of(redis: RedisCluster, keys: Sequence[str]) -> ClusterNode:
    if not keys:
        return redis.get_default_node()
    node = redis.get_node_from_key(keys[0])
    if node is None:  # only for replica=True; kept for the type
        raise SlotNotCoveredError(f"no master serves the slot of {keys[0]!r}")
    return node


async def _node_round(batch: _Batch, node: ClusterNode, items: list[Item]) -> None:
    """One master's calls and its WAIT on one of its connections; results and redirects."""
    try:
        async with node_connection(node) as conn:
            replies, wait = await _exchange(batch, conn, items)
    except (RedisError, OSError) as exc:  # this master: every call of it fails with it
        if not isinstance(exc, MaxConnectionsError):
            await node_failed(batch.redis, node)
        batch.failures.append(exc)
        for i, _ in items:
            batch.results[i] = exc
        return
    ran = []
    for i, reply in replies.items():
        if isinstance(reply, AskError):  # MOVED is one too: not run, send it again
            await _redirect(batch, i, reply)
        elif isinstance(reply, ClusterDownError | TryAgainError):  # not run: again, later
            _later(batch, i, reply)
        else:
            ran.append(i)
    confirmed = batch.durability.confirm([replies[i] for i in ran], [wait])
    for i, value in zip(ran, confirmed, strict=True):
        batch.results[i] = value
        if batch.settled is not None:
            batch.settled(i, value)


async def _exchange(
    batch: _Batch, conn: Connection, items: list[Item]
) -> tuple[dict[int, Any], Any]:
    """Replies by batch index, and the last WAIT's reply.  Calls answered ``NOSCRIPT`` go
    again once, after ``SCRIPT LOAD``, on the same connection."""
    replies: dict[int, Any] = {}
    sending, load = items, False
    wait: Any = None
    for _ in range(2):
        payload, count, positions = _commands(batch, sending, load)
        answers = await resp.exchange(conn, payload, count)
        wait = answers[-1]
        missing = []
        for item, at in zip(sending, positions, strict=True):
            if isinstance(answers[at], NoScriptError) and not load:
                missing.append(item)
            else:
                replies[item[0]] = answers[at]
        if not missing:
            break
        sending, load = missing, True
    return replies, wait


def _commands(batch: _Batch, items: list[Item], load: bool) -> tuple[bytes, int, list[int]]:
    """The encoded round trip (SCRIPT LOAD first when ``load``, WAIT last), its command count,
    and where each call's reply is among the replies."""
    script = batch.script
    commands = [resp.encode(("SCRIPT", "LOAD", script.source))] if load else []
    positions = []
    for i, asked in items:
        if asked is not None:
            commands.append(ASKING)
        positions.append(len(commands))
        keys, args = batch.pairs[i]
        commands.append(resp.encode(("EVALSHA", script.sha, len(keys), *keys, *args)))
    commands.append(batch.durability.command())
    return b"".join(commands), len(commands), positions


def _later(batch: _Batch, i: int, error: ClusterDownError | TryAgainError) -> None:
    """Call ``i`` was refused for now: send it again next round, after :data:`PAUSE`."""
    batch.results[i] = error  # its answer if the rounds run out
    if isinstance(error, ClusterDownError):
        refresh_slots(batch.redis)  # a failover is under way: the map is about to change
    batch.pause = True
    batch.again.append((i, None))


async def _redirect(batch: _Batch, i: int, error: AskError) -> None:
    """Call ``i`` was redirected: send it again next round, where the reply said."""
    batch.results[i] = error  # its answer if the rounds run out
    if isinstance(error, MovedError):
        await slot_moved(batch.redis, error)
        batch.again.append((i, None))
        return
    asked = batch.redis.get_node(host=error.host, port=error.port)
    if asked is None:  # a node the map does not know yet: ask for the map again
        refresh_slots(batch.redis)
    batch.again.append((i, asked))
