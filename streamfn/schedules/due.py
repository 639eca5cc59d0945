"""One schedule round's decisions, from what it read: what is due, how to fire it, and the
soonest later schedule.  Pure functions (no I/O), so the code that reads and fires
(:mod:`streamfn.timekeeping.schedule_fires`) is only plumbing.

A round reads Redis ``TIME`` and each function's earliest schedules (up to a batch, and
only those due within a short horizon of the clock estimate); :func:`scan_due` splits those
rows into the due ones and the soonest later one.  Each due schedule's step is planned from
its cached definition with its misfire policy (:func:`fire_call`, :mod:`.firing`);
``schedule_fire.lua`` applies a step only if the schedule is still as it was planned from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streamfn.schedules.definition import Misfire
from streamfn.schedules.firing import plan
from streamfn.schedules.ops import FireCall
from streamfn.schedules.schedule import misfire_from_hash, spec_from_hash
from streamfn.schedules.spec import Spec

HORIZON_MS = 100  # read schedules due this soon too, to know exactly when the first of them is

Due = tuple[str, str, int]
"""(function, schedule id, due ms): one due schedule, as its zset entry says."""


@dataclass(frozen=True, slots=True)
class Fired:
    """One planned time enqueued by this scheduler, for metrics (e.g. a lateness histogram)."""

    function: str
    schedule_id: str
    planned_ms: int
    fired_ms: int  # Redis time of the enqueue

    @property
    def lateness(self) -> float:
        """Seconds from the planned time to the enqueue (never negative)."""
        return (self.fired_ms - self.planned_ms) / 1000


@dataclass(slots=True)
class Cached:
    """A schedule's definition as last read, and its fire count as this copy last saw it.

    A stale count only matters for ``limit``, and the script refuses a step past the limit
    (the entry is then read again), so it never causes a wrong fire."""

    rev: str
    spec: Spec
    misfire: Misfire
    fire_count: int


def cached_from_hash(raw: dict[bytes, bytes]) -> Cached:
    """A stored schedule hash as :class:`Cached`; KeyError or ValueError when unreadable."""
    return Cached(
        raw[b"rev"].decode(),
        spec_from_hash(raw),
        misfire_from_hash(raw),
        int(raw.get(b"fire_count") or 0),
    )


def horizon(estimate_ms: float | None, within: float) -> int | str:
    """The highest score to read: due within ``within`` seconds and :data:`HORIZON_MS` of
    the estimate (``+inf`` before the first clock reading, which reads the earliest batch
    instead)."""
    if estimate_ms is None:
        return "+inf"
    return int(estimate_ms + within * 1000 + HORIZON_MS)


@dataclass(frozen=True, slots=True)
class Scan:
    """The due schedules of one read, the soonest later score, whether a batch was full of
    due ones (then more may be due: go again at once), and the Redis time it split at."""

    due: list[Due]
    soonest: int | None
    again: bool
    now_ms: int = 0


def scan_due(
    functions: Sequence[str],
    rows: Sequence[Sequence[tuple[bytes, float]]],
    now_ms: int,
    batch: int,
) -> Scan:
    """Split each function's (member, score) rows at ``now_ms`` (Redis time)."""
    due: list[Due] = []
    soonest: float | None = None
    again = False
    for fn, fn_rows in zip(functions, rows, strict=True):
        ready = [(fn, m.decode(), int(s)) for m, s in fn_rows if s <= now_ms]
        due += ready
        again = again or len(ready) == batch
        later = [s for _, s in fn_rows if s > now_ms]
        if later:
            soonest = min(later) if soonest is None else min(soonest, *later)
    return Scan(due, None if soonest is None else int(soonest), again, now_ms)


def fire_call(due: Due, now_ms: int, cached: Cached | None, grace_ms: int) -> FireCall:
    """The step for one due schedule; ``cached`` None: it was deleted, and the empty step
    drops its stray zset entry.  Raises ValueError when its spec cannot be planned."""
    fn, sid, score = due
    if cached is None:
        return FireCall(fn, sid, score, "", now_ms, (), None)
    step = plan(
        cached.spec,
        cached.misfire,
        due_ms=score,
        now_ms=now_ms,
        fired=cached.fire_count,
        grace_ms=grace_ms,
    )
    return FireCall(fn, sid, score, cached.rev, now_ms, step.fires, step.next_ms)
