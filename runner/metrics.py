"""The runner's Prometheus metrics, in a registry of their own.

Label values come only from the functions currently loaded (anything else is ``unknown``), so
a stream of odd names can never grow the series without bound.  Children are cached per label
value: a counter bump on the hot path is a dict lookup and an ``inc``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from streamfn import partitions
from streamfn.scripts import Reply
from streamfn.stream_stats import StreamGauges

OUTCOMES = ("succeeded", "retried", "dead", "failed", "stale")

# What finish_many reports -> the outcome label.
_OUTCOME_OF: dict[str, str] = {
    Reply.SUCCEEDED: "succeeded",
    Reply.SCHEDULED: "retried",
    Reply.DEAD: "dead",
    Reply.FAILED: "failed",
    Reply.STALE: "stale",
    Reply.CANCELLED: "cancelled",
}

_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
# Lateness of a scheduled fire: healthy values are milliseconds, an outage's make-up fires
# (see docs/schedules.md, misfires) are seconds to hours late.
_LATENESS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600)


class Metrics:
    """Every runner metric; ``is_loaded(name)`` says which label values are allowed."""

    def __init__(self, is_loaded: Callable[[str], bool]) -> None:
        self.is_loaded = is_loaded
        self.registry = CollectorRegistry()
        r = self.registry
        fn = ["function"]
        self.invocations = Counter(
            "streamfn_invocations",
            "Finished attempts by outcome",
            ["function", "outcome"],
            registry=r,
        )
        self.duration = Histogram(
            "streamfn_invocation_duration_seconds",
            "Handler run time",
            fn,
            buckets=_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge("streamfn_in_flight", "Handlers running now", registry=r)
        self.retries = Counter("streamfn_retries", "Attempts scheduled for retry", fn, registry=r)
        self.dead_letters = Counter(
            "streamfn_dead_letters", "Invocations moved to the dead-letter stream", fn, registry=r
        )
        self.reclaims = Counter(
            "streamfn_reclaims", "Entries taken over from a silent runner", fn, registry=r
        )
        self.poison = Counter(
            "streamfn_poison", "Entries dead-lettered for too many deliveries", fn, registry=r
        )
        self.reclaim_deleted = Counter(
            "streamfn_reclaim_deleted",
            "Pending entries found deleted from the stream while reclaiming",
            fn,
            registry=r,
        )
        self.consumers_reaped = Counter(
            "streamfn_consumers_reaped",
            "Consumers of gone runners deleted from the group (they held no work)",
            fn,
            registry=r,
        )
        self.streams = StreamGauges(r)  # of the loaded functions (runner.depth)
        self.schedule_lateness = Histogram(
            "streamfn_schedule_lateness_seconds",
            "Start of a scheduled fire's first attempt minus its planned time (Redis clock)",
            fn,
            buckets=_LATENESS_BUCKETS,
            registry=r,
        )
        self._children: dict[tuple[str, str], Any] = {}

    def label(self, function: str) -> str:
        """A loaded function's name (a partition queue counts as its function), or unknown."""
        function = partitions.function_of_queue(function)
        return function if self.is_loaded(function) else "unknown"

    def forget_labels(self) -> None:
        """Drop cached children (call when the set of loaded functions changes)."""
        self._children.clear()

    def _child(self, kind: str, function: str, outcome: str = "") -> Any:
        key = (kind + outcome, function)
        child = self._children.get(key)
        if child is None:
            label = self.label(function)
            metric = getattr(self, kind)
            child = metric.labels(label, outcome) if outcome else metric.labels(label)
            self._children[key] = child
        return child

    def observe(self, function: str, seconds: float) -> None:
        self._child("duration", function).observe(seconds)

    def observe_lateness(self, function: str, seconds: float) -> None:
        """One scheduled fire started ``seconds`` after its planned time."""
        self._child("schedule_lateness", function).observe(seconds)

    def outcome(self, function: str, reported: str, count: int = 1) -> None:
        """Count ``count`` reported outcomes (a finish_many status) and their side counters."""
        outcome = _OUTCOME_OF.get(reported)
        if outcome is None:
            return
        self._child("invocations", function, outcome).inc(count)
        if outcome == "retried":
            self._child("retries", function).inc(count)
        elif outcome == "dead":
            self._child("dead_letters", function).inc(count)

    def count(self, kind: str, function: str, amount: int = 1) -> None:
        """Bump a per-function counter: "reclaims", "poison", "reclaim_deleted" or
        "consumers_reaped"."""
        self._child(kind, function).inc(amount)
