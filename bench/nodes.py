"""Each master's counters, on one Redis or a Redis Cluster, and which master holds a key.

redis-py's cluster client sends ``INFO`` to one node (its default node), so a figure read
through it would count one master of several.  Every reading here asks each master by name
(``target_nodes``), and the masters are listed in a fixed order: by the first of the
namespace's shards each one serves (``master1`` serves shard 0), so the same name means the
same slot range in every repeat.  On one node (or a Sentinel-found master) there is one
master, named by its address.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis, RedisCluster

from streamfn.connection import AnyRedis

SECTIONS = ("cpu", "stats", "memory", "commandstats")
SELF_COMMANDS = frozenset({"info"})
"""Commands the bench itself sends around a measurement, left out of every command count."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One master's counters at one moment."""

    cpu_s: float
    """``used_cpu_user + used_cpu_sys`` (all clients, not only ours)."""
    total_commands: int
    """``total_commands_processed`` (commands run inside Lua scripts count too)."""
    calls: Mapping[str, int]
    """``INFO commandstats`` calls per command (``evalsha``, ``xreadgroup``, ``cluster|slots``)."""
    used_memory: int


async def masters(redis: AnyRedis, tags: Sequence[str] = ()) -> list[str]:
    """The masters' names (``host:port``), ordered by the first of ``tags`` each one serves;
    masters serving none of them come last, by name."""
    if not isinstance(redis, RedisCluster):
        return [_single_name(redis)]
    await redis.initialize()
    order: list[str] = []
    for tag in tags:
        node = redis.get_node_from_key(tag)
        if node is not None and node.name not in order:
            order.append(node.name)
    rest = sorted(n.name for n in redis.get_primaries() if n.name not in order)
    return order + rest


def master_of(redis: AnyRedis, key: str) -> str:
    """The name of the master serving ``key`` (after :func:`masters` initialized the client)."""
    if not isinstance(redis, RedisCluster):
        return _single_name(redis)
    node = redis.get_node_from_key(key)
    if node is None:
        raise LookupError(f"no master serves the slot of {key!r}")
    return str(node.name)


async def read_masters(redis: AnyRedis) -> dict[str, Reading]:
    """One ``INFO cpu stats memory commandstats`` per master, by master name."""
    if not isinstance(redis, RedisCluster):
        return {_single_name(redis): _reading(await redis.info(*SECTIONS))}
    await redis.initialize()
    out: dict[str, Reading] = {}
    for node in redis.get_primaries():
        info = await redis.info(*SECTIONS, target_nodes=node)
        out[str(node.name)] = _reading(info)
    return out


def _reading(info: Mapping[str, Any]) -> Reading:
    calls = {
        key.removeprefix("cmdstat_"): int(value["calls"])
        for key, value in info.items()
        if key.startswith("cmdstat_") and isinstance(value, dict)
    }
    return Reading(
        cpu_s=float(info["used_cpu_user"]) + float(info["used_cpu_sys"]),
        total_commands=int(info["total_commands_processed"]),
        calls=calls,
        used_memory=int(info["used_memory"]),
    )


def commands_between(
    before: Reading, after: Reading, minus: Mapping[str, int] | None = None
) -> int:
    """Commands one master ran between two readings: every command's calls, without the
    bench's own (:data:`SELF_COMMANDS`, and ``minus``: calls per command it sent itself)."""
    sent = minus or {}
    total = 0
    for name, calls in after.calls.items():
        if name not in SELF_COMMANDS:
            total += max(0, calls - before.calls.get(name, 0) - sent.get(name, 0))
    return total


def _single_name(redis: Redis) -> str:
    kwargs: dict[str, Any] = redis.connection_pool.connection_kwargs
    if "path" in kwargs:
        return str(kwargs["path"])
    if "host" in kwargs:
        return f"{kwargs['host']}:{kwargs.get('port', 6379)}"
    return "master"
