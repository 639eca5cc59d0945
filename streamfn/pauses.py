"""Paused functions: invocations are still accepted, runners start none of them until resumed.

State is one hash of the registry's tag, ``{ns:registry}:paused`` (fn -> JSON ``{"at"}``,
since when, Redis clock), so it is one slot on a cluster and any number of functions cost
one read.  Who reads it:

* every runner, whole, every :data:`REFRESH` seconds (``runner/pauses.py``): its reads leave
  a paused function's streams out, its reclaimer claims none of its entries, and work it
  already runs finishes;
* the catalog read (:func:`streamfn.registry.read_catalog`, in the pipeline it already
  sends), so ``GET /functions`` and ``streamfn functions ls`` show ``paused``.

Nothing else changes: ``enqueue.lua`` queues as usual (``202 queued``), timers and schedules
still promote into the stream, where the work waits.  A pause outlives the function being
removed and deployed again; only a resume ends it.
"""

from __future__ import annotations

from collections.abc import Mapping

from streamfn import codec
from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.redis_time import redis_now_ms

REFRESH = 1.0
"""Seconds between a runner's reads of the paused set: a pause or resume takes effect
within this (plus one read's BLOCK, whose late deliveries are handed back)."""


def parse(raw: Mapping[bytes, bytes]) -> dict[str, int]:
    """The ``paused`` hash as fn -> since (ms); a malformed value counts as paused at 0."""
    out: dict[str, int] = {}
    for field, value in raw.items():
        try:
            at = int(codec.loads(value).get("at", 0))
        except (ValueError, TypeError, AttributeError):
            at = 0
        out[field.decode()] = at
    return out


async def read(redis: AnyRedis, keys: Keys) -> dict[str, int]:
    """Every paused function -> since when (ms, Redis clock)."""
    raw: dict[bytes, bytes] = await redis.hgetall(keys.paused)  # type: ignore[assignment]
    return parse(raw)


async def pause(redis: AnyRedis, keys: Keys, function: str) -> int:
    """Pause ``function`` (already checked to be deployed); returns since when (ms).  Pausing
    a paused function keeps its first time (HSETNX)."""
    now = await redis_now_ms(redis)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.hsetnx(keys.paused, function, codec.dumps({"at": now}))
        pipe.hget(keys.paused, function)
        _, raw = await pipe.execute()
    return parse({function.encode(): raw})[function] if raw is not None else now


async def resume(redis: AnyRedis, keys: Keys, function: str) -> bool:
    """Resume ``function``; whether it was paused."""
    return bool(await redis.hdel(keys.paused, function))
