"""Redis-side counters read around a measurement: CPU, commands, memory; the sum over every
master on a Redis Cluster (:mod:`bench.nodes`), the one server otherwise."""

from __future__ import annotations

from bench.nodes import read_masters
from streamfn.connection import AnyRedis


async def redis_cpu_seconds(redis: AnyRedis) -> float:
    """``used_cpu_user + used_cpu_sys`` of the server(s) (all clients, not only ours)."""
    return sum(r.cpu_s for r in (await read_masters(redis)).values())


async def redis_commands(redis: AnyRedis) -> int:
    """``total_commands_processed`` (commands run inside Lua scripts count too)."""
    return sum(r.total_commands for r in (await read_masters(redis)).values())


async def used_memory(redis: AnyRedis) -> int:
    return sum(r.used_memory for r in (await read_masters(redis)).values())
