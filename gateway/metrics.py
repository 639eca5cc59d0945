"""Prometheus metrics of one gateway, in its own registry, served at ``GET /metrics``.

Every label value comes from a bounded set: routes are templates (``/invoke/{fn}``, or
``unmatched``), methods are the standard ones (else ``other``), and function labels are names
from the catalog (else ``unknown``), so no client can grow the series without bound.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import generate_latest
from redis.exceptions import RedisClusterException, RedisError

from streamfn.stream_stats import StreamGauges, StreamStat
from streamfn.waiters import WaiterHub

log = logging.getLogger("streamfn.gateway.metrics")

OUTCOMES = ("queued", "scheduled", "duplicate", "backlog_full", "rejected")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Metrics:
    """The gateway's metric families; ``render`` gives the exposition text."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "http_requests_total",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self._accepted = Counter(
            "invocations_accepted_total",
            "POST /invoke outcomes: queued, scheduled, duplicate (Idempotency-Key), "
            "backlog_full (429: STREAMFN_MAX_BACKLOG) or rejected.",
            ["function", "outcome"],
            registry=self.registry,
        )
        self.waiters = Gauge(
            "waiters", "Requests waiting for an invocation to finish.", registry=self.registry
        )
        # Of the catalog's functions, read at each scrape (gateway.app): none between scrapes.
        self.streams = StreamGauges(self.registry)
        self._read_streams: Callable[[], Awaitable[Mapping[str, StreamStat]]] | None = None
        # Resolved label children, so the hot path skips prometheus_client's label lookup.
        self._request_children: dict[tuple[str, str, int], Counter] = {}
        self._accepted_children: dict[tuple[str, str], Counter] = {}

    def read_streams_with(self, read: Callable[[], Awaitable[Mapping[str, StreamStat]]]) -> None:
        """Call ``read`` at each :meth:`refresh_streams` for the stream gauges' values."""
        self._read_streams = read

    async def refresh_streams(self) -> None:
        """Read the stream gauges now; while Redis cannot be read they keep their last
        values, so a scrape still shows the rest."""
        if self._read_streams is None:
            return
        try:
            self.streams.show(await self._read_streams())
        except (RedisError, RedisClusterException, OSError) as exc:
            log.debug("stream gauges not refreshed: %s", exc)

    def track_waiters(self, hub: WaiterHub) -> None:
        """Report ``hub.waiting`` as the ``waiters`` gauge at each scrape."""
        self.waiters.set_function(lambda: hub.waiting)

    def request(self, route: str, method: str, status: int) -> None:
        """Count one response; ``route`` is a route template or ``unmatched``."""
        key = (route, method if method in _METHODS else "other", status)
        child = self._request_children.get(key)
        if child is None:
            child = self._requests.labels(key[0], key[1], str(status))
            self._request_children[key] = child
        child.inc()

    def invocation(self, function_label: str, outcome: str) -> None:
        """Count one POST /invoke outcome; pass a label from ``CatalogCache.label``."""
        key = (function_label, outcome)
        child = self._accepted_children.get(key)
        if child is None:
            child = self._accepted.labels(function_label, outcome)
            self._accepted_children[key] = child
        child.inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return generate_latest(self.registry)
