"""Depth and oldest-entry age of each function's stream, read in one pipelined round trip."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from streamfn.keys import Keys


@dataclass(frozen=True, slots=True)
class StreamStat:
    """``depth``: entries in the stream (queued and running); ``oldest_age_s``: the first
    entry's age by the Redis clock (0 when empty)."""

    depth: int
    oldest_age_s: float


async def read_stream_stats(
    redis: Redis, keys: Keys, functions: Sequence[str]
) -> dict[str, StreamStat]:
    """XLEN and the first entry id of each stream, against Redis TIME (stream ids are ms)."""
    if not functions:
        return {}
    async with redis.pipeline(transaction=False) as pipe:
        pipe.time()
        for fn in functions:
            pipe.xlen(keys.stream(fn))
            pipe.xrange(keys.stream(fn), count=1)
        replies: list[Any] = await pipe.execute()
    seconds, micros = replies[0]
    now_ms = int(seconds) * 1000 + int(micros) // 1000
    stats: dict[str, StreamStat] = {}
    for i, fn in enumerate(functions):
        depth, first = replies[1 + 2 * i], replies[2 + 2 * i]
        age = 0.0
        if first:
            entry_id = first[0][0]
            entry = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            age = max(0, now_ms - int(entry.split("-", 1)[0])) / 1000
        stats[fn] = StreamStat(int(depth), age)
    return stats
