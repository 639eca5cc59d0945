"""When runners went away: a shared record, so any runner's janitor can clean up after them.

A runner goes away by withdrawing its report (a clean stop) or by its report expiring (a
crash); whoever notices (the withdraw, or the first catalog read that finds the report gone)
records ``runner id -> when`` (Redis clock, ms) in ``{<ns>:registry}:departed``.  Every
janitor reads it at each look, so the runners live when a departure's consumers can be
deleted sweep then, even when the runners that saw it go are gone themselves (a crash loop,
a rolling deploy faster than the wait).  Entries older than :data:`KEEP_MS` are trimmed as
new ones are written, which bounds the set by the departures of that window.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from streamfn.connection import AnyRedis
from streamfn.keys import Keys

KEEP_MS = 10 * 60 * 1000  # departures kept this long: far past any cleanup wait


def record(pipe: Any, keys: Keys, runner_ids: Iterable[str], now_ms: int) -> None:
    """Queue on ``pipe``: the runners ``runner_ids`` went away at ``now_ms``; trim old ones."""
    ids = list(runner_ids)
    if not ids:
        return
    pipe.zadd(keys.departed, {i: now_ms for i in ids}, nx=True)
    pipe.zremrangebyscore(keys.departed, "-inf", f"({now_ms - KEEP_MS}")


async def read(redis: AnyRedis, keys: Keys) -> dict[str, int]:
    """Every recorded departure: runner id -> when it was noticed (Redis clock, ms)."""
    rows: list[tuple[bytes, float]] = await redis.zrange(  # type: ignore[assignment]
        keys.departed, 0, -1, withscores=True
    )
    return {member.decode(): int(score) for member, score in rows}
