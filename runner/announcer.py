"""Announcer: keep this runner's registry report fresh, and withdraw it on clean shutdown.

The report (loaded functions with their policy; errors by file: import errors, and refused
``SCHEDULE`` declarations passed in as ``extra_errors``) is what gateways and the
CLI read to know what is invokable.  It is refreshed every heartbeat interval with a TTL of
three intervals (at least 5 s), so a dead runner's report vanishes on its own, and re-published
at once after any discovery change.  Consumer groups of newly loaded queues are created
first, so a function is never advertised before its streams can be read.  Each tick also
records this runner's ``PARTITIONS`` layouts and picks up the old ones still to read
(:class:`~streamfn.runner.layouts.LayoutFollower`).

Each report also says what an operator asks of a runner (``GET /runners``, ``streamfn
runners``): its version, when it started and was published (ms, Redis clock), the
invocations in flight, the oldest lease it holds, and which of its functions it has seen
paused (re-published at once when that changes, so an operator sees a pause take effect).
A few numbers and names: the report stays small.

Every report also keeps the loaded functions *deployed* (:mod:`streamfn.deployed`), last
seen now by the Redis clock, and lists the functions whose file left the directory
(:attr:`Discovery.removed`).  Once no live runner loads such a function, the announcer
records it removed (so it stays removed after this runner is gone) and drops it from the
report.  Withdrawing the report on shutdown marks the loaded functions seen then: a stop is
a runner going away, never a removal.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping

from streamfn import __version__, deployed, registry
from streamfn.connection import AnyRedis
from streamfn.deployed import FILE_REMOVED, Removal
from streamfn.keys import Keys
from streamfn.loop import Loop
from streamfn.registry import Lease, RunnerReport
from streamfn.runner.discovery import Discovery
from streamfn.runner.groups import ensure_groups
from streamfn.runner.jobs import Leases
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
        now_ms: Callable[[], float],
        extra_errors: Callable[[], Mapping[str, str]] = dict,
        leases: Leases | None = None,
        in_flight: Callable[[], int] = lambda: 0,
        paused: Callable[[], frozenset[str]] = frozenset,
    ) -> None:
        """``now_ms``: the Redis clock's estimate (:class:`~streamfn.runner.clock.RedisClock`);
        ``leases``, ``in_flight`` and ``paused``: what the report says this runner holds, runs
        and has seen paused."""
        super().__init__(interval)
        self.leases = Leases() if leases is None else leases
        self.in_flight = in_flight
        self.paused = paused
        self.started_ms = 0  # set by the first report
        self.now_ms = now_ms
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
        self._removed: dict[str, int] = {}  # file gone -> when this runner first reported it
        self._recorded: set[str] = set()  # of those, recorded removed in the registry
        self.layouts = LayoutFollower(redis, keys, discovery)

    def report(self, now_ms: int = 0) -> RunnerReport:
        """The report as of ``now_ms`` (the Redis clock's estimate)."""
        d = self.discovery
        return RunnerReport(
            runner_id=self.runner_id,
            functions={name: fn.to_report() for name, fn in sorted(d.functions.items())},
            errors=dict(sorted({**self.extra_errors(), **d.errors}.items())),
            host=self.host,
            pid=os.getpid(),
            concurrency=self.concurrency,
            removed={fn: at for fn, at in self._removed.items() if fn not in self._recorded},
            version=__version__,
            started_ms=self.started_ms,
            at_ms=now_ms,
            in_flight=self.in_flight(),
            oldest_lease=self._oldest_lease(now_ms),
            paused=sorted(self.paused() & d.functions.keys()),
        )

    def _oldest_lease(self, now_ms: int) -> Lease | None:
        job = self.leases.oldest()
        if job is None:
            return None
        held_ms = int((time.monotonic() - job.leased_at) * 1000)
        return Lease(job.invocation_id, job.function, now_ms - held_ms)

    async def tick(self) -> None:
        await self.layouts.step(time.time_ns() // 1_000_000)
        loaded = set(self.discovery.queues)
        new = loaded - self._grouped
        if new:
            await ensure_groups(self.redis, self.keys, sorted(new))
        self._grouped = loaded
        now = int(self.now_ms())
        self.started_ms = self.started_ms or now
        self._track_removed(now)
        await registry.publish(self.redis, self.keys, self.report(now), self.ttl, now_ms=now)
        self.published += 1
        await self._record_removed()

    def _track_removed(self, now: int) -> None:
        gone = self.discovery.removed - self.discovery.functions.keys()
        self._removed = {fn: self._removed.get(fn, now) for fn in sorted(gone)}
        self._recorded &= gone

    async def _record_removed(self) -> None:
        """Record as removed the functions whose file left here that no live runner loads.

        After this runner's report (without them) is written: two runners losing the same
        file at once each write, then read, so at least one sees the other's new report."""
        pending = {fn: at for fn, at in self._removed.items() if fn not in self._recorded}
        if not pending:
            return
        loaded = registry.loaded_by(await registry.live_reports(self.redis, self.keys))
        removals = {fn: Removal(at, FILE_REMOVED) for fn, at in pending.items() if fn not in loaded}
        await deployed.record_removed(self.redis, self.keys, removals)
        self._recorded |= removals.keys()

    async def withdraw(self) -> None:
        """Remove the report now (clean shutdown); a failure leaves it to expire.  What this
        runner still loads was seen now: its retention starts here."""
        functions = self.report().functions
        try:
            now = int(self.now_ms())
            await registry.withdraw(self.redis, self.keys, self.runner_id, functions, now_ms=now)
        except Exception as exc:
            log.warning("could not withdraw the runner report (%s); it expires by itself", exc)
