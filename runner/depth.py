"""Stream gauges: depth (XLEN) and the age of the oldest entry, refreshed every few seconds.

Streams hold only live work (finished entries are deleted), so the first entry is the oldest
unfinished one; its id's millisecond part is when it was added, on Redis's clock.  One
pipelined round trip covers every loaded function.
"""

from __future__ import annotations

from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.runner.clock import RedisClock
from streamfn.runner.discovery import Discovery
from streamfn.runner.loop import Loop
from streamfn.runner.metrics import Metrics

REFRESH_INTERVAL = 5.0


class StreamGauges(Loop):
    """Sets ``stream_depth`` and ``stream_oldest_age_seconds`` per loaded function."""

    name = "stream-gauges"

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        discovery: Discovery,
        clock: RedisClock,
        metrics: Metrics,
        interval: float = REFRESH_INTERVAL,
    ) -> None:
        super().__init__(interval)
        self.redis = redis
        self.keys = keys
        self.discovery = discovery
        self.clock = clock
        self.metrics = metrics
        self._shown: set[str] = set()

    async def tick(self) -> None:
        names = sorted(self.discovery.functions)
        for gone in self._shown - set(names):
            self.metrics.remove_function(gone)
        self._shown = set(names)
        if not names:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                stream = self.keys.stream(name)
                pipe.xlen(stream)
                pipe.xrange(stream, count=1)
            replies = await pipe.execute()
        now_ms = self.clock.now_ms()
        for i, name in enumerate(names):
            depth, first = replies[2 * i], replies[2 * i + 1]
            self.metrics.stream_depth.labels(name).set(depth)
            age = 0.0
            if first:
                added_ms = int(first[0][0].split(b"-")[0])
                age = max(0.0, (now_ms - added_ms) / 1000)
            self.metrics.stream_oldest_age.labels(name).set(age)
