"""Orphaned work: entries delivered to a runner that is no longer live (its report is gone).

Such an entry is still *running* by the group's count (it is in the pending list) although
nobody runs it.  The reclaimer takes it over once it has been idle for a visibility timeout,
unless its function is paused (:mod:`streamfn.pauses`), in which case it waits for the resume.
An operator sees it here: per function, the pending entries whose consumer names no live
runner (a runner's consumer name is its id in the registry).

Read on request (``GET /runners``, ``GET /functions/{fn}``, ``streamfn runners``), never by a
loop: the tags' ``active`` sets name the streams holding entries, then one XPENDING summary
per busy stream, pipelined.  Idle functions cost nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from streamfn import partitions
from streamfn.connection import AnyRedis
from streamfn.keys import GROUP, Keys
from streamfn.stream_stats import active_queues


def layouts_of(entries: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Catalog entries -> the queues of each one's ``PARTITIONS`` layout."""
    return {e["name"]: partitions.queues(e["name"], int(e.get("partitions") or 1)) for e in entries}


async def read_orphaned(
    redis: AnyRedis, keys: Keys, queues: Mapping[str, list[str]], live: Collection[str]
) -> dict[str, int]:
    """Function -> pending entries held by consumers that are not in ``live`` (runner ids);
    every function of ``queues`` is in the result."""
    out = dict.fromkeys(queues, 0)
    flat = [(fn, q) for fn, names in queues.items() for q in names]
    if not flat:
        return out
    active = await active_queues(redis, keys, {keys.tag(q) for _, q in flat})
    busy = [(fn, q) for fn, q in flat if q in active]
    if not busy:
        return out
    async with redis.pipeline(transaction=False) as pipe:
        for _, q in busy:
            pipe.xpending(keys.stream(q), GROUP)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
    for (fn, _), reply in zip(busy, replies, strict=True):
        if isinstance(reply, Exception):  # no group yet (NOGROUP): nothing delivered
            continue
        out[fn] += sum(
            int(c["pending"]) for c in reply.get("consumers") or () if _name(c["name"]) not in live
        )
    return out


def _name(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)
