"""The checker: from what the gateway acknowledged and what the probe saw, count the damage.

``lost`` counts acknowledged invocations whose record is not ``succeeded`` at the end;
``duplicates`` counts executions beyond the first per id (at-least-once allows them, and the
scenarios bound where they may happen); ``early`` counts executions that started before the
time the invocation was due.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.names import function_of
from tests.fault.probe import Execution

CHUNK = 1000


async def final_statuses(redis: Redis, keys: Keys, ids: Iterable[str]) -> dict[str, str | None]:
    """The stored status of each id (None: no record), read in pipelined chunks."""
    ids = list(ids)
    out: dict[str, str | None] = {}
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        async with redis.pipeline(transaction=False) as pipe:
            for inv in chunk:
                pipe.hget(keys.invocation(function_of(inv) or "", inv), "status")
            rows = await pipe.execute()
        out.update({inv: (r.decode() if r else None) for inv, r in zip(chunk, rows, strict=True)})
    return out


async def all_succeeded(redis: Redis, keys: Keys, ids: Iterable[str]) -> bool:
    statuses = await final_statuses(redis, keys, ids)
    return all(s == "succeeded" for s in statuses.values())


def check(
    acked: Mapping[str, float | None],
    executions: list[Execution],
    finals: Mapping[str, str | None],
) -> dict[str, Any]:
    """Figures for one run; ``acked`` maps each acknowledged id to its due time (or None)."""
    lost = sorted(i for i in acked if finals.get(i) != "succeeded")
    starts = Counter(e.id for e in executions)
    first: dict[str, float] = {}
    for e in executions:
        first.setdefault(e.id, e.start)
    early = sum(1 for i, due in acked.items() if due is not None and first.get(i, due) < due)
    return {
        "acked": len(acked),
        "lost": len(lost),
        "lost_sample": lost[:5],
        "executions": len(executions),
        "duplicates": sum(c - 1 for c in starts.values() if c > 1),
        "max_exec_per_id": max(starts.values(), default=0),
        "early": early,
        "unacked_executed": len(set(starts) - set(acked)),
    }
