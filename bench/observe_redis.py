"""Redis-side counters read around a measurement: CPU, commands, memory, slow log."""

from __future__ import annotations

from typing import Any

from streamfn.connection import AnyRedis


async def redis_cpu_seconds(redis: AnyRedis) -> float:
    """``used_cpu_user + used_cpu_sys`` of the server (all clients, not only ours)."""
    info: dict[str, Any] = await redis.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def redis_commands(redis: AnyRedis) -> int:
    """``total_commands_processed`` (commands run inside Lua scripts count too)."""
    info: dict[str, Any] = await redis.info("stats")
    return int(info["total_commands_processed"])


async def used_memory(redis: AnyRedis) -> int:
    info: dict[str, Any] = await redis.info("memory")
    return int(info["used_memory"])
