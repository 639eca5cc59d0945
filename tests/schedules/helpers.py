"""Helpers shared by the schedule tests: the Redis clock, hash reads, instants in a zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")


async def redis_ms(redis: Redis) -> int:
    """Redis ``TIME`` in epoch ms, computed exactly as the scripts compute ``now``."""
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def hash_of(redis: Redis, key: str) -> dict[str, str]:
    """A hash decoded to str (empty when the key does not exist)."""
    raw: Any = await redis.hgetall(key)
    return {k.decode(): v.decode() for k, v in raw.items()}


def ms(text: str, tz: ZoneInfo = UTC, fold: int = 0) -> int:
    """Epoch ms of a wall time such as ``"2024-03-31 01:59:59"`` in ``tz``."""
    wall = datetime.fromisoformat(text).replace(tzinfo=tz, fold=fold)
    return int(wall.timestamp() * 1000)


def wall(epoch_ms: int, tz: ZoneInfo = UTC) -> str:
    """``"YYYY-MM-DD HH:MM:SS+HH:MM"`` of an instant in ``tz``: offsets show DST."""
    return datetime.fromtimestamp(epoch_ms / 1000, tz).isoformat(sep=" ")
