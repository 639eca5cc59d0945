"""Schedule lateness: how long after its planned time a scheduled fire starts running.

``schedule_fire.lua`` writes the planned time (epoch ms) into the stream entry as ``pl``, so
lateness is measured where a fire starts, with no extra read: start (the Redis-clock estimate
of :class:`streamfn.timekeeping.clock.RedisClock`) minus planned.  Only first attempts carry
``pl`` (a retry is queued by ``promote.lua`` without it), so retries never count as late
fires.  A fire reclaimed from a dead runner starts again and is observed again, at its real,
later start.
"""

from __future__ import annotations

from streamfn.runner.executor import Executor
from streamfn.runner.handler_import import LoadedFunction
from streamfn.runner.jobs import Job
from streamfn.runner.metrics import Metrics
from streamfn.timekeeping.clock import RedisClock


class ScheduleLateness:
    """Observes ``streamfn_schedule_lateness_seconds`` for entries that carry ``pl``."""

    def __init__(self, clock: RedisClock, metrics: Metrics) -> None:
        self.clock = clock
        self.metrics = metrics

    def observe(self, function: str, fields: dict[bytes, bytes] | None) -> float | None:
        """The lateness in seconds of a scheduled fire starting now (None: not a fire)."""
        planned = (fields or {}).get(b"pl")
        if planned is None:
            return None
        try:
            planned_ms = int(planned)
        except ValueError:  # a hand-written entry; the executor reports what is wrong with it
            return None
        # The clock is an estimate (offset measured from TIME): never report a negative value.
        seconds = max(0.0, (self.clock.now_ms() - planned_ms) / 1000)
        self.metrics.observe_lateness(function, seconds)
        return seconds


class TimedExecutor(Executor):
    """The executor, observing schedule lateness as each delivered entry starts.

    A subclass rather than a change to :class:`Executor`: the measurement is one dict lookup
    on the way in and stays out of the execution path itself.  ``lateness`` is set by
    :func:`runner.parts.build` once the clock exists.
    """

    lateness: ScheduleLateness | None = None

    def submit(self, fn: LoadedFunction, entry_id: str, fields: dict[bytes, bytes] | None) -> Job:
        if self.lateness is not None:
            self.lateness.observe(fn.name, fields)
        return super().submit(fn, entry_id, fields)
