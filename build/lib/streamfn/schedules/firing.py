"""The misfire plan: which planned times a due schedule fires now, and its next fire after.

Pure functions of (spec, policy, due time, Redis now): no I/O, so every case is a unit test.

A planned time is **missed** when it is more than ``GRACE_MS`` (1 s) in the past at planning
time; a time within the grace is simply due and always fires (a scheduler that is a few hundred
ms late is late, not down).  Missed times, which only an outage or a stopped scheduler leaves
behind, are handled by the schedule's policy:

* ``skip``: none of them fire.
* ``fire_once``: one fire, planned at the most recent missed time.
* ``catch_up`` (max M): the most recent min(M, missed) times fire, oldest first.

After that the schedule continues at its first time after now.  A call fires at most
``MAX_FIRES_PER_CALL`` times; the rest stay due for the next call.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from streamfn.schedules.definition import Misfire
from streamfn.schedules.spec import Spec, next_fire

GRACE_MS = 1000
MAX_FIRES_PER_CALL = 100
_MAX_SCAN = 200_000  # next_fire steps one plan may take: bounds a pathological cron


@dataclass(frozen=True, slots=True)
class Plan:
    """Times to fire now (ascending) and the schedule's next fire (None: finished)."""

    fires: tuple[int, ...]
    next_ms: int | None


def first_at_or_after(spec: Spec, at_ms: int) -> int | None:
    return next_fire(spec, at_ms - 1)


def recent_fires(spec: Spec, lo_ms: int, hi_ms: int, count: int) -> list[int]:
    """The last ``count`` fire times t with ``lo_ms <= t < hi_ms``, ascending."""
    if count <= 0 or hi_ms <= lo_ms:
        return []
    if spec.kind == "every":
        return _recent_every(spec, lo_ms, hi_ms, count)
    # Scan forward from ever earlier starts (x4 each round) until the window holds ``count``
    # fires: cost follows the fires near ``hi``, not the length of the outage.
    span, scanned = 1000, 0
    while True:
        start = max(lo_ms, hi_ms - span)
        found: deque[int] = deque(maxlen=count)
        at = first_at_or_after(spec, start)
        while at is not None and at < hi_ms and scanned < _MAX_SCAN:
            found.append(at)
            scanned += 1
            at = next_fire(spec, at)
        if len(found) >= count or start == lo_ms or scanned >= _MAX_SCAN:
            return list(found)
        span *= 4


def _recent_every(spec: Spec, lo_ms: int, hi_ms: int, count: int) -> list[int]:
    step, anchor = spec.interval_ms, spec.anchor_ms
    first = first_at_or_after(spec, lo_ms)
    if first is None:
        return []
    top = hi_ms - 1 if spec.end_at is None else min(hi_ms - 1, spec.end_at)
    if top < first:
        return []
    last = anchor + (top - anchor) // step * step
    begin = max(first, last - (count - 1) * step)
    return list(range(begin, last + 1, step))


def plan(
    spec: Spec,
    misfire: Misfire,
    *,
    due_ms: int,
    now_ms: int,
    fired: int = 0,
    grace_ms: int = GRACE_MS,
    cap: int = MAX_FIRES_PER_CALL,
) -> Plan:
    """What a schedule whose next fire is ``due_ms`` does at Redis time ``now_ms``.

    ``fired`` is the schedule's fire count so far (for ``limit``).
    """
    if due_ms > now_ms:
        return Plan((), due_ms)
    cutoff = now_ms - grace_ms
    chosen: list[int] = []
    if due_ms < cutoff:
        keep = {"skip": 0, "fire_once": 1}.get(misfire.policy, misfire.catch_up_max)
        chosen = recent_fires(spec, due_ms, cutoff, keep)
    at = due_ms if due_ms >= cutoff else first_at_or_after(spec, cutoff)
    while at is not None and at <= now_ms and len(chosen) <= cap:
        chosen.append(at)
        at = next_fire(spec, at)
    if spec.limit is not None:
        chosen = chosen[: max(0, spec.limit - fired)]
        if fired + len(chosen) >= spec.limit:
            return Plan(tuple(chosen), None)
    if len(chosen) > cap:
        return Plan(tuple(chosen[:cap]), chosen[cap])
    return Plan(tuple(chosen), at)  # the loop stopped at the first fire after now
