"""Announcer: keep this runner's registry report fresh, and withdraw it on clean shutdown.

The report (loaded functions with their policy; errors by file: import errors, and refused
``SCHEDULE`` declarations passed in as ``extra_errors``) is what gateways and the
CLI read to know what is invokable.  It is refreshed every heartbeat interval with a TTL of
three intervals (at least 5 s), so a dead runner's report vanishes on its own, and re-published
at once after any discovery change.  Consumer groups of newly loaded queues are created
first, so a function is never advertised before its streams can be read.  Each tick also
records this runner's ``PARTITIONS`` layouts and picks up the old ones still to read
(:class:`~streamfn.runner.layouts.LayoutFollower`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping

from streamfn import registry
from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.loop import Loop
from streamfn.registry import RunnerReport
from streamfn.runner.discovery import Discovery
from streamfn.runner.groups import ensure_groups
from streamfn.runner.layouts import LayoutFollower

log = logging.getLogger("streamfn.runner.announcer")

MIN_TTL = 5.0


class Announcer(Loop):
    """Publishes a :class:`RunnerReport` every ``interval`` and on :meth:`wake`."""

    name = "announcer"
    logger = log

    def __init__(
        self,
        redis: AnyRedis,
        keys: Keys,
        discovery: Discovery,
        runner_id: str,
        *,
        interval: float,
        concurrency: int,
        host: str,
        extra_errors: Callable[[], Mapping[str, str]] = dict,
    ) -> None:
        super().__init__(interval)
        self.extra_errors = extra_errors
        self.redis = redis
        self.keys = keys
        self.discovery = discovery
        self.runner_id = runner_id
        self.concurrency = concurrency
        self.host = host
        self.ttl = max(MIN_TTL, 3 * interval)
        self.published = 0  # reports written (tests wait on it)
        self._grouped: set[str] = set()
        self.layouts = LayoutFollower(redis, keys, discovery)

    def report(self) -> RunnerReport:
        d = self.discovery
        return RunnerReport(
            runner_id=self.runner_id,
            functions={name: fn.to_report() for name, fn in sorted(d.functions.items())},
            errors=dict(sorted({**self.extra_errors(), **d.errors}.items())),
            host=self.host,
            pid=os.getpid(),
            concurrency=self.concurrency,
        )

    async def tick(self) -> None:
        await self.layouts.step(time.time_ns() // 1_000_000)
        loaded = set(self.discovery.queues)
        new = loaded - self._grouped
        if new:
            await ensure_groups(self.redis, self.keys, sorted(new))
        self._grouped = loaded
        await registry.publish(self.redis, self.keys, self.report(), self.ttl)
        self.published += 1

    async def withdraw(self) -> None:
        """Remove the report now (clean shutdown); a failure leaves it to expire."""
        try:
            await registry.withdraw(self.redis, self.keys, self.runner_id)
        except Exception as exc:
            log.warning("could not withdraw the runner report (%s); it expires by itself", exc)
