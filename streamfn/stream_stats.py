"""Depth and oldest-entry age of each function's stream: one query, one pair of gauges.

Streams hold only live work (finished entries are deleted), so ``XLEN`` is the queued and
running work and the first entry is the oldest unfinished one; its id's millisecond part is
when it was added, on Redis's clock.  Only streams that hold something are read: each hash
tag's ``active`` set (kept by the scripts that add and delete entries) names them, so the
query costs one SMEMBERS per tag plus two reads per busy stream, whatever the number of idle
functions.  The gateway (for the catalog's functions, at each scrape) and each runner (for its
loaded ones) export the result under the same names, defined here once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from streamfn import partitions
from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.redis_time import redis_now_ms

DEPTH = "streamfn_stream_depth"
OLDEST_AGE = "streamfn_stream_oldest_age_seconds"


@dataclass(frozen=True, slots=True)
class StreamStat:
    """``depth``: entries in the stream (queued and running); ``oldest_age_s``: the first
    entry's age by the Redis clock (0 when empty)."""

    depth: int
    oldest_age_s: float


async def active_queues(redis: AnyRedis, keys: Keys, tags: Iterable[str]) -> set[str]:
    """The queues of ``tags`` whose stream holds entries (each tag's ``active`` set)."""
    names = list(tags)
    if not names:
        return set()
    async with redis.pipeline(transaction=False) as pipe:
        for tag in names:
            pipe.smembers(keys.active(tag))
        replies: list[set[bytes]] = await pipe.execute()
    return {m.decode() for members in replies for m in members}


async def read_stream_stats(
    redis: AnyRedis, keys: Keys, queues: Sequence[str]
) -> dict[str, StreamStat]:
    """XLEN and the first entry id of each busy queue's stream, against Redis TIME (stream ids
    are ms), summed per function: depth over its queues (:mod:`streamfn.partitions`), the
    oldest age among them.  Every function of ``queues`` is in the result; those whose
    streams are all empty show 0."""
    if not queues:
        return {}
    stats = {partitions.function_of_queue(q): StreamStat(0, 0.0) for q in queues}
    active = await active_queues(redis, keys, {keys.tag(q) for q in queues})
    busy = [q for q in queues if q in active]
    if not busy:
        return stats
    now_ms = await redis_now_ms(redis)
    async with redis.pipeline(transaction=False) as pipe:
        for queue in busy:
            pipe.xlen(keys.stream(queue))
            pipe.xrange(keys.stream(queue), count=1)
        replies: list[Any] = await pipe.execute()
    for i, queue in enumerate(busy):
        depth, first = replies[2 * i], replies[1 + 2 * i]
        age = 0.0
        if first:
            entry_id = first[0][0]
            entry = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            age = max(0, now_ms - int(entry.split("-", 1)[0])) / 1000
        fn = partitions.function_of_queue(queue)
        seen = stats[fn]
        stats[fn] = StreamStat(int(depth) + seen.depth, max(age, seen.oldest_age_s))
    return stats


class StreamGauges:
    """The ``streamfn_stream_depth`` and ``streamfn_stream_oldest_age_seconds`` gauges."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.depth = Gauge(
            DEPTH,
            "Entries in the function's stream (queued and running).",
            ["function"],
            registry=registry,
        )
        self.oldest_age = Gauge(
            OLDEST_AGE,
            "Age of the oldest entry in the function's stream (Redis clock; 0 when empty).",
            ["function"],
            registry=registry,
        )
        self._shown: dict[str, StreamStat] = {}
        self._children: dict[str, tuple[Any, Any]] = {}

    def show(self, stats: Mapping[str, StreamStat]) -> None:
        """Replace the values; functions not in ``stats`` lose their series (gone stale).
        Unchanged values are not set again: a thousand idle functions cost a comparison each."""
        for gone in self._shown.keys() - stats.keys():
            self.depth.remove(gone)
            self.oldest_age.remove(gone)
            self._children.pop(gone, None)
        for fn, stat in stats.items():
            if self._shown.get(fn) == stat:
                continue
            children = self._children.get(fn)
            if children is None:
                children = self._children[fn] = (self.depth.labels(fn), self.oldest_age.labels(fn))
            children[0].set(stat.depth)
            children[1].set(stat.oldest_age_s)
        self._shown = dict(stats)
