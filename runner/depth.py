"""Stream gauges of the loaded functions: depth and oldest-entry age, every few seconds.

The query and the gauges are the core's (:mod:`streamfn.stream_stats`), shared with the
gateway, so both export the same series names.  A function no longer loaded loses its series.
"""

from __future__ import annotations

import logging

from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.loop import Loop
from streamfn.runner.discovery import Discovery
from streamfn.runner.metrics import Metrics
from streamfn.stream_stats import read_stream_stats

log = logging.getLogger("streamfn.runner.depth")

REFRESH_INTERVAL = 5.0


class StreamGaugeLoop(Loop):
    """Refreshes ``metrics.streams`` for the loaded functions."""

    name = "stream-gauges"
    logger = log

    def __init__(
        self,
        redis: AnyRedis,
        keys: Keys,
        discovery: Discovery,
        metrics: Metrics,
        interval: float = REFRESH_INTERVAL,
    ) -> None:
        super().__init__(interval)
        self.redis = redis
        self.keys = keys
        self.discovery = discovery
        self.metrics = metrics

    async def tick(self) -> None:
        names = sorted(self.discovery.queues)
        self.metrics.streams.show(await read_stream_stats(self.redis, self.keys, names))
