"""Which ``PARTITIONS`` layouts each function has had: runners must read them all until drained.

A function's queues depend on its ``P`` (:mod:`streamfn.partitions`), so a change of ``P``
leaves the old layout's queues holding work: entries queued or running, timers due later.
Every runner records the layouts it serves in one hash (``{<ns>:registry}:layouts``, field
``<fn>:<P>`` -> when it last said so, ms), every announce interval.  Each runner reads, besides
its own layout, every other layout of its functions that is still *in use* (announced within
:data:`GRACE_S`: another runner, or a gateway that has not yet seen the change, may still
send work there) or not yet *drained* (its streams or timer sets still hold something).  Old
layouts stay listed in the hash, so dead letters are found in every queue a function ever had.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from streamfn.connection import AnyRedis
from streamfn.keys import Keys

GRACE_S = 600.0
"""How long after its last announcement a layout counts as in use: well past any gateway's
catalog refresh and any runner's report lifetime, so nothing can still be sent to it."""


async def announce(redis: AnyRedis, keys: Keys, layouts: Mapping[str, int], now_ms: int) -> None:
    """Record that a runner serves ``layouts`` (function -> ``P``) now; ``P = 1`` needs no
    record (its only queue is the home queue, which is always read)."""
    fields: dict[str | bytes, int] = {f"{fn}:{p}": now_ms for fn, p in layouts.items() if p > 1}
    if fields:
        await redis.hset(keys.layouts, mapping=fields)  # type: ignore[arg-type]


async def read_layouts(redis: AnyRedis, keys: Keys) -> dict[str, dict[int, int]]:
    """function -> {``P``: last announced ms} for every layout ever recorded."""
    raw: Any = await redis.hgetall(keys.layouts)
    out: dict[str, dict[int, int]] = {}
    for field, value in raw.items():
        fn, _, p = field.decode().rpartition(":")
        if fn and p.isdigit():
            out.setdefault(fn, {})[int(p)] = int(value)
    return out


async def drained(redis: AnyRedis, keys: Keys, queues: Iterable[str]) -> bool:
    """True when no queue's stream or timer set holds anything (streams hold only live work:
    finished entries are deleted, so XLEN counts queued and running ones)."""
    names = list(queues)
    async with redis.pipeline(transaction=False) as pipe:
        for q in names:
            pipe.xlen(keys.stream(q))
            pipe.zcard(keys.timers(q))
        counts: list[int] = await pipe.execute()
    return not any(counts)
