"""Counts per status and per minute from the index, exact and without a SCAN.

Final statuses are counted by the scripts in ``ix:counts``; an entry of an expired record is
counted out when it is trimmed, so :func:`counts` trims first (:func:`trim`).  The live
statuses are the sizes Redis already keeps: ``scheduled`` the timer wheel's, ``running`` the
consumer group's pending entries, ``queued`` the stream's entries less those.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from redis.exceptions import ResponseError

from streamfn import codec, partitions
from streamfn.connection import AnyRedis
from streamfn.index.query import FINAL_STATUSES
from streamfn.keys import GROUP, Keys
from streamfn.layouts import read_layouts
from streamfn.scripts import run
from streamfn.scripts.index_calls import index_trim

TRIM_BATCH = 20
"""Expiry entries per ``index_trim.lua`` call: each names up to ~100 records (a complete.lua
batch), so a call takes out at most ~2,000 index entries (~1-2 ms of Redis)."""
TRIM_CALLS = 200
"""A reader trims at most this many batches per queue, then reads what is left; the next
reader goes on."""

MINUTES_KEPT = 1440


async def queues_of(
    redis: AnyRedis, keys: Keys, function: str, also: Iterable[str] = ()
) -> list[str]:
    """Every queue of ``function`` that may hold records: its home queue, those of every
    ``PARTITIONS`` layout recorded (:mod:`streamfn.layouts`), and ``also``."""
    found = {function, *also}
    for p in (await read_layouts(redis, keys)).get(function, {}):
        if partitions.is_partition_count(p):
            found.update(partitions.queues(function, p))
    return sorted(found)


async def trim(redis: AnyRedis, keys: Keys, queue: str) -> int:
    """Take the index entries of ``queue``'s expired records out (``index_trim.lua``), a
    bounded batch at a time; how many went."""
    total = 0
    for _ in range(TRIM_CALLS):
        trimmed, more = await run(redis, index_trim(keys, queue, TRIM_BATCH))
        total += int(trimmed)
        if not int(more):
            break
    return total


async def counts(redis: AnyRedis, keys: Keys, queues: Sequence[str]) -> dict[str, int]:
    """Invocations per status over ``queues`` (one function's), each status present."""
    for q in queues:
        await trim(redis, keys, q)
    async with redis.pipeline(transaction=False) as pipe:
        for q in queues:
            pipe.zcard(keys.timers(q))
            pipe.xlen(keys.stream(q))
            pipe.xpending(keys.stream(q), GROUP)
            pipe.hmget(keys.index_counts(q), FINAL_STATUSES)
        raw: list[Any] = await pipe.execute(raise_on_error=False)
    out = dict.fromkeys(("scheduled", "queued", "running", *FINAL_STATUSES), 0)
    for n in range(len(queues)):
        timers, length, pending, finals = raw[4 * n : 4 * n + 4]
        running = 0 if isinstance(pending, ResponseError) else int(pending["pending"])
        out["scheduled"] += int(timers)
        out["running"] += running
        out["queued"] += int(length) - running
        for status, value in zip(FINAL_STATUSES, finals, strict=True):
            out[status] += int(value or 0)
    return out


async def minutes(
    redis: AnyRedis, keys: Keys, queues: Sequence[str], now_ms: int, span: int = 60
) -> list[dict[str, int]]:
    """The last ``span`` minutes (at most 24 h) to the one holding ``now_ms``, oldest first:
    ``{"minute": epoch ms of its start, "succeeded": n, "failed": failed attempts}``."""
    span = max(1, min(span, MINUTES_KEPT))
    last = now_ms // 60_000
    wanted = list(range(last - span + 1, last + 1))
    fields = [f for m in wanted for f in (str(m), f"{m}:f")]
    async with redis.pipeline(transaction=False) as pipe:
        for q in queues:
            pipe.hmget(keys.index_minutes(q), fields)
        raw: list[list[bytes | None]] = await pipe.execute()
    out = []
    for i, m in enumerate(wanted):
        ok = sum(int(codec.text(r[2 * i]) if r[2 * i] else 0) for r in raw)
        failed = sum(int(codec.text(r[2 * i + 1]) if r[2 * i + 1] else 0) for r in raw)
        out.append({"minute": m * 60_000, "succeeded": ok, "failed": failed})
    return out
