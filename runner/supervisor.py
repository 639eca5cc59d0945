"""Supervisor: start the runner's parts in order, shut down without losing work.

The parts are built (and connected) by :mod:`runner.parts`.  Start order: metrics server,
discovery (first scan), clock, completer, heartbeat, announcer, timekeeper (promotion and
schedule firing), file-declared schedules, stream gauges, the paused set (:mod:`runner.pauses`,
read once first), then reader, reclaimer and janitor, so nothing is read before outcomes can
be reported and leases renewed, nor a paused function's stream at all.

:meth:`Runner.request_stop` (what SIGTERM/SIGINT call: ``streamfn runner`` in
:mod:`streamfn.cli.serve_cmd` wires the signals) makes the runner not ready (``GET /readyz``
answers 503 while it drains: :mod:`runner.health`), stops reading, reclaiming and firing
schedules at once; running work gets ``shutdown_grace`` seconds (a second request cuts it
short), then what remains is cancelled and handed back with ``release.lua`` so another runner
starts it immediately.  Outcomes are flushed, the registry report withdrawn, and the process
exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from typing import Protocol

from streamfn.runner.faults import NO_FAULTS, Faults
from streamfn.runner.health import Probes
from streamfn.runner.jobs import Job
from streamfn.runner.parts import Parts, build
from streamfn.runner.reclaimer import active_refresh
from streamfn.settings import Settings

log = logging.getLogger("streamfn.runner")

FLUSH_TIMEOUT = 5.0
RELEASE_TIMEOUT = 5.0
BURST_POLL = 0.02


def consumer_name() -> str:
    """``<hostname>-<pid>-<4 hex>``: unique per process, readable in XINFO CONSUMERS."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


class _Part(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


async def _start(*parts: _Part) -> None:
    for part in parts:
        await part.start()


async def _stop(*parts: _Part) -> None:
    for part in parts:
        await part.stop()


class Runner:
    """One runner process's loops.  ``serve()`` runs until :meth:`request_stop` (or drained)."""

    def __init__(
        self,
        settings: Settings,
        *,
        concurrency: int | None = None,
        burst: bool = False,
        faults: Faults = NO_FAULTS,
    ) -> None:
        """``faults``: where a fault test breaks this runner (:mod:`runner.faults`; none by
        default)."""
        self.settings = settings
        self.faults = faults
        self.concurrency = concurrency or settings.concurrency
        self.burst = burst
        self.consumer = consumer_name()
        self.threads_left = False
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()
        self._stop = asyncio.Event()
        self._force = asyncio.Event()
        self.parts: Parts
        self._paused: frozenset[str] = frozenset()  # as of the last change the pauses told
        self.probes = Probes(lambda: self.parts.reader.pulses())
        """GET /healthz and /readyz on the metrics port (:mod:`runner.health`)."""

    def request_stop(self) -> None:
        """Begin a graceful stop; a second request skips the rest of the grace period."""
        self.probes.draining = True  # not ready from now on (GET /readyz)
        if self._stop.is_set():
            log.warning("second stop request: handing back running work now")
            self._force.set()
        self._stop.set()

    def _on_discovery_change(self) -> None:
        self.parts.metrics.forget_labels()
        self.parts.announcer.wake()
        self.parts.executor.prewarm(self.parts.discovery.functions)
        self.parts.scheduling.wake()
        self.parts.canceller.listen_to(self.parts.discovery.queues)
        self.parts.timekeeper.watch(self.parts.discovery.queues)

    def _on_pauses_change(self) -> None:
        p = self.parts
        p.announcer.wake()  # the report says which pauses it honours
        if self._paused - p.pauses.names:  # resumed: dead runners' consumers may go soon
            p.janitor.sweep_soon(active_refresh(self.settings) + 2 * self.settings.claim_interval)
        self._paused = p.pauses.names

    async def start(self) -> None:
        """Build and start every part (reading last)."""
        self.parts = p = build(
            self.settings,
            consumer=self.consumer,
            concurrency=self.concurrency,
            burst=self.burst,
            faults=self.faults,
            probes=self.probes,
        )
        p.discovery.subscribe(self._on_discovery_change)
        p.pauses.subscribe(self._on_pauses_change)
        try:
            await p.server.start()
        except OSError as exc:  # the work matters more than its metrics
            log.error(
                "cannot serve metrics on %s:%d (%s); running without them. Set "
                "STREAMFN_RUNNER_METRICS_PORT to a free port, or 0 to turn metrics off",
                self.settings.host,
                self.settings.runner_metrics_port,
                exc,
            )
        await p.discovery.start()
        await _start(p.clock, p.completer, p.heartbeat, p.announcer)
        p.timekeeper.watch(p.discovery.queues)
        await _start(p.timekeeper, p.scheduling, p.gauges, p.canceller, p.pauses, p.reader)
        await _start(p.reclaimer, p.janitor)
        self.probes.started = True
        self.started.set()
        log.info(
            "runner %s started: %d functions, concurrency %d%s",
            self.consumer,
            len(p.discovery.functions),
            self.concurrency,
            " (burst)" if self.burst else "",
        )

    async def serve(self) -> int:
        """Start, run until stopped (or drained in burst mode), shut down; returns 0."""
        await self.start()
        try:
            if self.burst:
                stop = asyncio.create_task(self._stop.wait())
                drained = asyncio.create_task(self._drained())
                await asyncio.wait({stop, drained}, return_when=asyncio.FIRST_COMPLETED)
                for task in (stop, drained):
                    task.cancel()
            else:
                await self._stop.wait()
        finally:
            await self.shutdown()
        return 0

    def _idle(self) -> bool:
        return (
            self.parts.executor.running == 0
            and len(self.parts.leases) == 0
            and self.parts.completer.pending == 0
        )

    async def _drained(self) -> None:
        """Burst mode: return once a full round of reads found nothing while nothing ran."""
        mark: int | None = None  # empty rounds counted when the runner last became idle
        while True:
            await asyncio.sleep(BURST_POLL)
            if not self._idle():
                mark = None
            elif mark is None:
                mark = self.parts.reader.empty_rounds
            elif self.parts.reader.empty_rounds > mark:
                log.info("burst: every stream is drained; exiting")
                return

    async def shutdown(self) -> None:
        """Stop taking work, let running work finish within the grace, hand back the rest."""
        p = self.parts
        self.probes.draining = True
        grace = self.settings.shutdown_grace
        log.info("stopping: %d running, up to %g s to finish", p.executor.running, grace)
        await _stop(p.discovery, p.timekeeper, p.scheduling, p.canceller, p.reader)
        await _stop(p.reclaimer, p.janitor, p.pauses)
        if not await self._wait_running(grace):
            jobs = p.executor.cancel_running()
            log.warning("grace over: handing back %d unfinished invocations", len(jobs))
            await self._release(jobs)
        if not await p.completer.flush(FLUSH_TIMEOUT):
            log.warning(
                "%d outcomes could not be reported; they will be reclaimed", p.completer.pending
            )
        # The heartbeat ran until now: work finishing in the grace period kept its leases.
        await _stop(p.completer, p.heartbeat, p.announcer)
        await p.announcer.withdraw()
        await _stop(p.gauges, p.clock, p.server)
        self.threads_left = p.executor.shutdown()
        await p.reader_redis.aclose()
        await p.redis.aclose()
        self.stopped.set()
        log.info("runner %s stopped", self.consumer)

    async def _wait_running(self, grace: float) -> bool:
        drain = asyncio.create_task(self.parts.executor.drain(grace))
        force = asyncio.create_task(self._force.wait())
        await asyncio.wait({drain, force}, return_when=asyncio.FIRST_COMPLETED)
        force.cancel()
        if not drain.done():
            drain.cancel()
            return False
        return drain.result()

    async def _release(self, jobs: list[Job]) -> None:
        tasks = [job.task for job in jobs if job.task is not None and job.is_async]
        if tasks:  # let cancelled handlers unwind before their entries move
            await asyncio.wait(tasks, timeout=1.0)
        calls = [
            self.parts.rdb.release(job.function, self.consumer, job.entry_id, job.invocation_id)
            for job in jobs
            if job.invocation_id
        ]
        if not calls:
            return
        try:
            async with asyncio.timeout(RELEASE_TIMEOUT):
                results = await asyncio.gather(*calls, return_exceptions=True)
        except TimeoutError:
            log.warning("handing back work timed out; the rest is reclaimed after the lease")
            return
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            log.warning(
                "%d hand-backs failed (%s); those are reclaimed after the lease",
                len(failed),
                failed[0],
            )
