"""Typed wrappers around ``lua/schedule_*.lua``: the only place Python calls those scripts.

Each method builds its call with the script's encoder (:mod:`streamfn.scripts.schedule_calls`)
and turns the reply into Python values.  Every call passes keys of one function's hash tag only.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.schedules.definition import ScheduleDef, fire_invocation_id
from streamfn.scripts import Arg, Call, Reply, run, run_batch
from streamfn.scripts.schedule_calls import (
    FireStep,
    schedule_delete,
    schedule_fire,
    schedule_pause,
    schedule_resume,
    schedule_upsert,
)


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


MAX_SCHEDULES_PER_CALL = 100
MAX_FIRES_PER_CALL = 200


@dataclass(frozen=True, slots=True)
class FireCall:
    """One planned step of one schedule, for :meth:`ScheduleRDB.fire_many`."""

    function: str
    schedule_id: str
    expected_ms: int  # the zset score the plan was made from
    rev: str
    plan_now_ms: int
    fires: Sequence[int]
    next_ms: int | None


@dataclass(frozen=True, slots=True)
class FireResult:
    """``ok``: the step was applied (``fired``: planned ms enqueued); else ``reason``."""

    ok: bool
    now_ms: int
    fired: tuple[int, ...] = ()
    fire_count: int = 0
    reason: str = ""


class ScheduleRDB:
    """Schedule script calls for one namespace.  Safe to share across tasks."""

    def __init__(self, redis: AnyRedis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys

    async def upsert(self, definition: ScheduleDef, next_ms: int | None) -> tuple[str, str]:
        """(CREATED|UPDATED|UNCHANGED, rev) or (STALE, last fire ms): recompute."""
        d = definition
        flat: list[Arg] = [x for item in d.fields().items() for x in item]
        rev = secrets.token_hex(8)
        call = schedule_upsert(self.keys, d.function, d.id, d.digest(), next_ms, rev, flat)
        status, detail = await run(self.redis, call)
        return _s(status), _s(detail)

    async def delete(self, function: str, schedule_id: str) -> bool:
        return bool(await run(self.redis, schedule_delete(self.keys, function, schedule_id)))

    async def pause(self, function: str, schedule_id: str) -> bool:
        return bool(await run(self.redis, schedule_pause(self.keys, function, schedule_id)))

    async def resume(self, function: str, schedule_id: str, rev: str, next_ms: int | None) -> str:
        """RESUMED, NOT_PAUSED, MISSING or STALE (read again and retry)."""
        call = schedule_resume(self.keys, function, schedule_id, rev, next_ms)
        status, _ = await run(self.redis, call)
        return _s(status)

    def _fire_call(self, function: str, steps: Sequence[FireCall]) -> Call:
        """One ``schedule_fire.lua`` call for several steps of one function's schedules."""
        planned = [
            FireStep(
                c.schedule_id,
                c.expected_ms,
                c.rev,
                c.next_ms,
                [(at, fire_invocation_id(function, c.schedule_id, at)) for at in c.fires],
            )
            for c in steps
        ]
        return schedule_fire(self.keys, function, min(c.plan_now_ms for c in steps), planned)

    async def fire_many(self, steps: Sequence[FireCall]) -> list[FireResult | Exception]:
        """Apply many steps in one pipelined round trip, a bounded script call per group of
        one function's steps; results come back in order, errors in place."""
        groups: list[list[int]] = []
        open_group: dict[str, list[int]] = {}
        fires: dict[str, int] = {}
        for i, c in enumerate(steps):
            group = open_group.get(c.function)
            n = len(c.fires)
            if (
                group is None
                or len(group) >= MAX_SCHEDULES_PER_CALL
                or (fires[c.function] + n > MAX_FIRES_PER_CALL)
            ):
                group = open_group[c.function] = []
                groups.append(group)
                fires[c.function] = 0
            group.append(i)
            fires[c.function] += n
        calls = [self._fire_call(steps[g[0]].function, [steps[i] for i in g]) for g in groups]
        replies = await run_batch(self.redis, calls)
        results: list[FireResult | Exception] = [ValueError("no reply")] * len(steps)
        for group, reply in zip(groups, replies, strict=True):
            if isinstance(reply, Exception):
                for i in group:
                    results[i] = reply
                continue
            now = int(reply[0])
            for i, item in zip(group, reply[1], strict=True):
                results[i] = _fire_result(now, item)
        return results


def _fire_result(now: int, item: list[Any]) -> FireResult:
    if _s(item[0]) == Reply.OK:
        return FireResult(True, now, tuple(int(x) for x in item[2:]), int(item[1]))
    return FireResult(False, now, reason=_s(item[0]))
