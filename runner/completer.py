"""Completer: report finished attempts to Redis in batches, one round trip per batch.

Outcomes are queued as handlers finish and flushed as soon as the event loop is free, at most
``batch_size`` per ``RDB.finish_many`` call, so under load one pipelined call carries many
outcomes.  On a Redis error the batch is kept and retried with a bounded backoff; if it never
lands the lease runs out and another runner re-runs the entry (at-least-once).  A "stale"
outcome means the lease was lost before we reported: counted and logged, never retried.
"""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from streamfn import invocation_logs
from streamfn.loop import Backoff
from streamfn.rdb import RDB, Completion
from streamfn.runner.faults import NO_FAULTS, Faults
from streamfn.runner.jobs import DONE, FINISHED, FLUSHING, Job, Leases
from streamfn.runner.metrics import Metrics
from streamfn.scripts import Reply
from streamfn.tasks import cancel_and_wait

log = logging.getLogger("streamfn.runner.completer")

BATCH_SIZE = 200
ITEM_TRIES = 3  # a single outcome Redis keeps refusing (not a connection error) is dropped


class Completer:
    """Queue of (job, completion) and the task that flushes it."""

    def __init__(
        self,
        rdb: RDB,
        consumer: str,
        leases: Leases,
        metrics: Metrics,
        *,
        batch_size: int = BATCH_SIZE,
        faults: Faults = NO_FAULTS,
    ) -> None:
        self.rdb = rdb
        self.faults = faults
        self.consumer = consumer
        self.leases = leases
        self.metrics = metrics
        self.batch_size = batch_size
        self.batches = 0  # finish_many calls made (tests and benchmarks read it)
        self._queue: list[tuple[Job, Completion]] = []
        self._flushing = 0
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._backoff = Backoff()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def pending(self) -> int:
        """Outcomes not yet reported (queued or in the batch being flushed)."""
        return len(self._queue) + self._flushing

    def add(self, job: Job, completion: Completion) -> None:
        self._queue.append((job, completion))
        if not self._wake.is_set():
            self._wake.set()
            self._idle.clear()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="completer")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None

    async def flush(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s until everything queued is reported; True when done."""
        if self.pending == 0:
            return True
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def _run(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch = self._queue[: self.batch_size]
                del self._queue[: self.batch_size]
                await self._flush(batch)
            if not self._queue:
                self._idle.set()

    async def _flush(self, batch: list[tuple[Job, Completion]]) -> None:
        # Jobs whose lease the heartbeat found lost are dropped: the new owner reports.
        batch = [(job, c) for job, c in batch if job.state == DONE]
        if not batch:
            return
        for job, _ in batch:
            job.state = FLUSHING
        self._flushing = len(batch)
        try:
            await self._write_logs(batch)
            outcomes = await self.rdb.finish_many(self.consumer, [c for _, c in batch])
        except Exception as exc:
            self._flushing = 0
            await self._retry_later(batch, exc)
            return
        except BaseException:  # cancelled: shutdown has flushed what it could already
            self._flushing = 0
            raise
        if self.faults.armed:
            self.faults.point("after_complete")
        self._flushing = 0
        self._backoff.reset()
        self.batches += 1
        self._settle(batch, outcomes)

    async def _write_logs(self, batch: list[tuple[Job, Completion]]) -> None:
        """The batch's attempts' log lines, ahead of their outcomes (a reader who sees a
        finished record finds its logs); no round trip when none of them logged.  Each write
        replaces its attempt's field, so a batch sent again writes nothing twice."""
        logged = [(c.function, c.invocation_id, j.logs) for j, c in batch if j.logs is not None]
        if not logged:
            return
        rdb = self.rdb
        cmds = invocation_logs.commands(rdb.keys, rdb.settings, logged)
        refused = [
            r for r in await invocation_logs.send(rdb.redis, cmds) if isinstance(r, Exception)
        ]
        if refused:  # a key of the wrong type, say: the outcomes still go out
            log.error("Redis refused %d log writes: %s", len(refused), refused[0])

    def _settle(self, batch: list[tuple[Job, Completion]], outcomes: list[str]) -> None:
        """Finish each job of a reported batch as Redis answered for it."""
        stale: list[str] = []
        counted: dict[tuple[str, str], int] = {}  # one metrics update per kind, not per job
        for (job, completion), outcome in zip(batch, outcomes, strict=True):
            if outcome.startswith("error") and self._again(job, outcome):
                self._queue.append((job, completion))
                continue
            if outcome == Reply.STALE:
                stale.append(job.invocation_id)
            job.state = FINISHED
            self.leases.remove(job)
            kind = (job.function, outcome)
            counted[kind] = counted.get(kind, 0) + 1
        for (function, outcome), count in counted.items():
            self.metrics.outcome(function, outcome, count)
        if stale:  # one line per batch: after a long pause there may be thousands
            log.warning(
                "%d outcomes arrived after their lease was lost (another runner owns those "
                "entries now) and were dropped: %s",
                len(stale),
                ", ".join(stale[:5]) + (", ..." if len(stale) > 5 else ""),
            )

    @staticmethod
    def _again(job: Job, outcome: str) -> bool:
        """Redis refused one outcome: report it again (True) a few times, then drop it."""
        job.tries += 1
        if job.tries < ITEM_TRIES and "NOGROUP" not in outcome:
            job.state = DONE
            return True
        log.error(
            "Redis refused the outcome of %s (%s); dropping it, the entry will be "
            "reclaimed after the visibility timeout",
            job.invocation_id,
            outcome,
        )
        return False

    async def _retry_later(self, batch: list[tuple[Job, Completion]], exc: Exception) -> None:
        """Put a batch back after a failed flush and wait a bounded, growing delay."""
        delay = self._backoff.next()
        if isinstance(exc, RedisError | OSError):
            log.warning(
                "reporting %d outcomes failed (%s); retrying in %.2f s", len(batch), exc, delay
            )
            kept = batch
        else:  # a bug, not Redis: retry a few times, then leave the entries to be reclaimed
            log.exception("reporting %d outcomes failed; retrying in %.2f s", len(batch), delay)
            for job, _ in batch:
                job.tries += 1
            kept = [(job, c) for job, c in batch if job.tries < ITEM_TRIES]
        for job, _ in kept:
            job.state = DONE
        self._queue[:0] = kept
        await asyncio.sleep(delay)
