"""How much work each function's queues hold: queued, running, scheduled, oldest queued age.

Streams hold only live work, and the consumer group has delivered exactly the entries up to
its ``last-delivered-id`` (later ones were added after it, or handed back at the tail), so:

* ``running`` is the group's pending count (delivered, not finished);
* ``queued`` is the stream's length minus that;
* ``scheduled`` is the size of the timer set (delayed invocations and retries);
* the oldest queued entry is the first one past ``last-delivered-id``; its id's millisecond
  part is when it was added, on the Redis clock.

Read on request (``GET /functions``, ``streamfn functions ls``), never by a loop: one pipelined
round trip for every queue of every function (XLEN, ZCARD, XINFO GROUPS and the first entry),
plus one more for the queues whose first entry is running while later ones wait.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import ResponseError

from streamfn import partitions
from streamfn.connection import AnyRedis
from streamfn.keys import GROUP, Keys
from streamfn.redis_time import redis_now_ms


@dataclass(frozen=True, slots=True)
class QueueCounts:
    """One function's work, summed over its queues; the age is the oldest queued one's (s)."""

    queued: int = 0
    running: int = 0
    scheduled: int = 0
    oldest_queued_age_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "queued": self.queued,
            "running": self.running,
            "scheduled": self.scheduled,
            "oldest_queued_age_s": round(self.oldest_queued_age_s, 3),
        }


def _id(raw: Any) -> tuple[int, int]:
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def _group(reply: Any) -> tuple[int, tuple[int, int]]:
    """(pending, last delivered id) of the runners' group; none yet: (0, 0-0)."""
    if isinstance(reply, ResponseError):
        if "no such key" in str(reply).lower():
            return 0, (0, 0)
        raise reply
    if isinstance(reply, Exception):
        raise reply
    for group in reply:
        name = group["name"]
        if (name.decode() if isinstance(name, bytes) else name) == GROUP:
            return int(group["pending"]), _id(group["last-delivered-id"])
    return 0, (0, 0)


@dataclass
class _Queue:
    function: str
    name: str
    queued: int
    running: int
    scheduled: int
    last_delivered: tuple[int, int]
    oldest: tuple[int, int] | None  # the oldest queued entry's id, once known


async def read_counts(
    redis: AnyRedis, keys: Keys, queues: Mapping[str, Sequence[str]]
) -> dict[str, QueueCounts]:
    """:class:`QueueCounts` of each function of ``queues`` (function -> its queue names)."""
    flat = [(fn, q) for fn, names in queues.items() for q in names]
    if not flat:
        return {}
    now_ms = await redis_now_ms(redis)
    async with redis.pipeline(transaction=False) as pipe:
        for _, q in flat:
            pipe.xlen(keys.stream(q))
            pipe.zcard(keys.timers(q))
            pipe.xinfo_groups(keys.stream(q))
            pipe.xrange(keys.stream(q), count=1)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
    found: list[_Queue] = []
    for i, (fn, q) in enumerate(flat):
        length, timers, groups, first = replies[4 * i : 4 * i + 4]
        for reply in (length, timers, first):
            if isinstance(reply, Exception):
                raise reply
        running, last = _group(groups)
        queue = _Queue(fn, q, max(0, int(length) - running), running, int(timers), last, None)
        if queue.queued and first and _id(first[0][0]) > last:
            queue.oldest = _id(first[0][0])
        found.append(queue)
    await _oldest_past_running(redis, keys, [q for q in found if q.queued and q.oldest is None])
    return _summed(found, now_ms)


async def counts_of(
    redis: AnyRedis, keys: Keys, entries: Iterable[Mapping[str, Any]]
) -> dict[str, QueueCounts]:
    """:func:`read_counts` of catalog entries (:class:`~streamfn.registry.Catalog`), each
    over the queues of its ``PARTITIONS`` layout; a function with nothing has zeros."""
    queues = {e["name"]: partitions.queues(e["name"], int(e.get("partitions", 1))) for e in entries}
    counts = await read_counts(redis, keys, queues)
    return {fn: counts.get(fn, QueueCounts()) for fn in queues}


async def _oldest_past_running(redis: AnyRedis, keys: Keys, queues: list[_Queue]) -> None:
    """The first entry past the group's last delivered id, for queues whose first is running."""
    if not queues:
        return
    async with redis.pipeline(transaction=False) as pipe:
        for q in queues:
            ms, seq = q.last_delivered
            pipe.xrange(keys.stream(q.name), min=f"({ms}-{seq}", count=1)
        replies: list[Any] = await pipe.execute()
    for q, rows in zip(queues, replies, strict=True):
        if rows:
            q.oldest = _id(rows[0][0])


def _summed(found: list[_Queue], now_ms: int) -> dict[str, QueueCounts]:
    out: dict[str, QueueCounts] = {}
    for q in found:
        seen = out.get(q.function, QueueCounts())
        age = max(0, now_ms - q.oldest[0]) / 1000 if q.oldest is not None else 0.0
        out[q.function] = QueueCounts(
            seen.queued + q.queued,
            seen.running + q.running,
            seen.scheduled + q.scheduled,
            max(seen.oldest_queued_age_s, age),
        )
    return out
