"""Encoders of the schedule scripts: schedule_upsert, _delete, _pause, _resume and _fire.

Each builds one script's KEYS and ARGV, in its header's order; every key is in the
function's hash tag.  :class:`streamfn.schedules.ops.ScheduleRDB` sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from streamfn import codec
from streamfn.keys import GROUP, Keys
from streamfn.scripts.loader import SCRIPTS, Arg, Call


class FireStep(NamedTuple):
    """One schedule's planned step: the fires (planned ms, invocation id) it enqueues."""

    schedule_id: str
    expected_ms: int  # the zset score the plan was made from
    rev: str
    next_ms: int | None  # None: the schedule is finished
    fires: Sequence[tuple[int, str]]


def _keys(k: Keys, function: str, schedule_id: str) -> list[str]:
    """``[schedules, schedule, due_schedules]``: the keys every schedule script but the fire
    takes."""
    return [
        k.schedules(function),
        k.schedule(function, schedule_id),
        k.due_schedules(k.tag(function)),
    ]


def _ms(value: int | None) -> int:
    return -1 if value is None else value


def schedule_upsert(
    k: Keys,
    function: str,
    schedule_id: str,
    digest: str,
    next_ms: int | None,
    rev: str,
    fields: Sequence[Arg],
) -> Call:
    """Create or replace a schedule; ``fields`` are its definition as field, value, ..."""
    wake = k.wake_channel(k.tag(function))
    args = [schedule_id, digest, _ms(next_ms), rev, function, wake, *fields]
    return SCRIPTS.schedule_upsert, _keys(k, function, schedule_id), args


def schedule_delete(k: Keys, function: str, schedule_id: str) -> Call:
    return SCRIPTS.schedule_delete, _keys(k, function, schedule_id), [schedule_id, function]


def schedule_pause(k: Keys, function: str, schedule_id: str) -> Call:
    return SCRIPTS.schedule_pause, _keys(k, function, schedule_id), [schedule_id, function]


def schedule_resume(
    k: Keys, function: str, schedule_id: str, rev: str, next_ms: int | None
) -> Call:
    """Resume from ``next_ms`` (None: never fires again), computed from revision ``rev``."""
    args = [schedule_id, rev, _ms(next_ms), function, k.wake_channel(k.tag(function))]
    return SCRIPTS.schedule_resume, _keys(k, function, schedule_id), args


def schedule_fire(k: Keys, function: str, plan_now_ms: int, steps: Sequence[FireStep]) -> Call:
    """Apply ``steps`` of ``function``'s schedules, planned at Redis time ``plan_now_ms``."""
    tag = k.tag(function)
    keys = [
        k.schedules(function),
        k.stream(function),
        k.due_schedules(tag),
        k.active(tag),
        k.index_status(function),
        k.index_by(function),
        k.index_expiry(function),
        k.index_counts(function),
    ]
    body: list[list[Any]] = []
    for s in steps:
        keys.append(k.schedule(function, s.schedule_id))
        keys += [k.invocation(function, inv) for _, inv in s.fires]
        pairs = [[at, inv] for at, inv in s.fires]
        body.append([s.schedule_id, s.expected_ms, s.rev, _ms(s.next_ms), pairs])
    return SCRIPTS.schedule_fire, keys, [GROUP, plan_now_ms, codec.dumps(body), function]
