"""Executor: run one delivered entry's handler and turn what happened into a Completion.

Three ways to run a handler: isolated ones (``ISOLATE``, and plain ``def`` handlers under
``STREAMFN_ISOLATE_SYNC``) in a pool of worker processes that a timeout or a cancel kills
(:mod:`runner.isolation`); other ``async def`` handlers as tasks, cancelled at their deadline
(:mod:`runner.deadlines`); other plain ``def`` handlers in a thread pool, where a timeout can
only stop the waiting.  Outcomes
go to the completer; nothing here talks to Redis, so an invocation costs no round trip of its
own.  :meth:`Executor.cancel` stops one running invocation (``DELETE /invocations/{id}``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

from streamfn import codec, invocation_logs
from streamfn.context import Context, PermanentError
from streamfn.names import belongs_to, function_of
from streamfn.rdb import Completion
from streamfn.runner.completer import Completer
from streamfn.runner.deadlines import Deadlines
from streamfn.runner.failures import (
    MESSAGE_CHARS,
    bounded,
    clip,
    error_of,
    result_too_large,
    timed_out,
    unserialisable,
)
from streamfn.runner.faults import NO_FAULTS, Faults
from streamfn.runner.handler_import import LoadedFunction
from streamfn.runner.isolation.calls import Calls, HandlerFailed
from streamfn.runner.isolation.pools import HandlerTimeout
from streamfn.runner.isolation.worker import WorkerCrashed, WorkerStartFailed
from streamfn.runner.jobs import DONE, RELEASED, RUNNING, Job, Leases
from streamfn.runner.metrics import Metrics

log = logging.getLogger("streamfn.runner.executor")

__all__ = ["Executor", "error_of"]


class Executor:
    """Runs up to ``concurrency`` handlers at once; see :attr:`free` for the reader's budget."""

    def __init__(
        self,
        concurrency: int,
        leases: Leases,
        completer: Completer,
        metrics: Metrics,
        *,
        log_level: str = "INFO",
        max_result: int = 1024 * 1024,
        log_max_bytes: int = 64 * 1024,
        faults: Faults = NO_FAULTS,
    ) -> None:
        self.concurrency = concurrency
        self.log_max_bytes = log_max_bytes
        self.capture_level = logging.getLevelName(log_level.upper())
        self.faults = faults
        self.max_result = max_result
        self.leases = leases
        self.completer = completer
        self.metrics = metrics
        self.running = 0
        self.cancelled = 0  # invocations stopped by a cancel request
        self._cancelling: set[Job] = set()
        self._expired: set[Job] = set()  # in-process async handlers past their timeout
        self._deadlines = Deadlines(self._time_out)
        self._slot_freed = asyncio.Event()
        self.calls = Calls(concurrency, self._slot_freed.set, log_level, max_result, log_max_bytes)

    @property
    def stuck(self) -> int:
        """In-thread sync handlers past their timeout, each still holding a slot."""
        return self.calls.stuck

    @property
    def free(self) -> int:
        """Entries the runner may take now."""
        return self.concurrency - self.running - self.stuck

    async def wait_free(self) -> None:
        """Return once at least one slot is free."""
        while self.free < 1:
            self._slot_freed.clear()
            await self._slot_freed.wait()

    def submit(self, fn: LoadedFunction, entry_id: str, fields: dict[bytes, bytes] | None) -> Job:
        """Start running one delivered entry (the caller stays within :attr:`free`)."""
        # is_async on a Job means "cancelling its task stops it": true for isolated ones too.
        job = Job(fn.queue, entry_id, fn.cancellable)
        self.leases.add(job)
        self.running += 1
        loop = asyncio.get_running_loop()
        job.task = loop.create_task(self._run(job, fn, fields))
        if fn.is_async and not fn.isolated:  # the other two ways time out on their own
            self._deadlines.watch(job, fn.policy.timeout, loop)
        return job

    def _time_out(self, job: Job) -> None:
        """A watched handler reached its deadline: stop it (recorded as a timeout)."""
        if job.state == RUNNING and job.task is not None and job not in self._cancelling:
            self._expired.add(job)
            job.task.cancel()

    async def _run(self, job: Job, fn: LoadedFunction, fields: dict[bytes, bytes] | None) -> None:
        completion: Completion | None = None
        started = time.perf_counter()
        try:
            completion = await self._attempt(job, fn, fields)
        except asyncio.CancelledError:
            # Lease lost or shutdown: the entry's new owner (or the stream) has it.  A cancel
            # request is the exception: its outcome is recorded, fenced like any other.
            if job in self._cancelling:
                completion = self._cancelled(job, fn, started)
        finally:
            self._cancelling.discard(job)
            self._expired.discard(job)
            self._deadlines.forget(job)
            self.running -= 1
            self._slot_freed.set()
        if completion is not None and job.state == RUNNING:
            job.state = DONE
            ctx = job.ctx
            if ctx is not None and ctx.captured:
                job.logs = _sealed(ctx, fn, completion)
            if self.faults.armed:
                self.faults.point("after_execute")
            self.completer.add(job, completion)

    async def _attempt(
        self, job: Job, fn: LoadedFunction, fields: dict[bytes, bytes] | None
    ) -> Completion:
        started = time.perf_counter()
        try:
            invocation_id = fields[b"id"].decode()  # type: ignore[index]
            if not belongs_to(invocation_id, fn.name):
                raise ValueError(f"invocation id {invocation_id!r} is not one of {fn.name}'s")
            job.invocation_id = invocation_id
            attempt = int(fields.get(b"a", b"1"))  # type: ignore[union-attr]
            payload = codec.loads(fields[b"p"])  # type: ignore[index]
        except Exception as exc:
            return self._malformed(job, fn, fields, exc)
        policy = fn.policy
        ctx = Context(
            invocation_id,
            fn.name,
            attempt,
            time.time() + policy.timeout,
            fn.log,
            self.log_max_bytes,
            self.capture_level,
        )
        job.ctx = ctx
        try:
            result = await self.calls.call(fn, fields[b"p"], payload, ctx)  # type: ignore[index]
        except asyncio.CancelledError:
            if job not in self._expired or job in self._cancelling:
                raise
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            error, mode = timed_out(policy.timeout, killed=False), "retry"
        except BaseException as exc:  # SystemExit from a handler must not end the runner
            error, mode = _failure(fn, exc)
        else:  # the success path stays inline: one call less per invocation
            seconds = time.perf_counter() - started
            self.metrics.observe(fn.name, seconds)
            try:
                body = result if fn.isolated else codec.dumps(result)
            except TypeError as exc:
                error, mode = unserialisable(exc), "dead"
            else:
                if len(body) <= self.max_result:
                    ms = int(seconds * 1000)
                    return Completion(fn.queue, job.entry_id, invocation_id, ms, body)
                error, mode = result_too_large(len(body), self.max_result), "dead"
        return self._failed(job, fn, invocation_id, started, error, mode)

    def _failed(
        self,
        job: Job,
        fn: LoadedFunction,
        invocation_id: str,
        started: float,
        error: dict[str, str],
        mode: str,
    ) -> Completion:
        """A failed attempt: retried (or dead-lettered) by ``fail.lua`` as ``mode`` says."""
        policy = fn.policy
        seconds = time.perf_counter() - started
        if mode == "retry":
            self.metrics.observe(fn.name, seconds)
        return Completion(
            fn.queue,
            job.entry_id,
            invocation_id,
            int(seconds * 1000),
            error=error,
            mode=mode,
            max_attempts=policy.max_attempts,
            backoff_base_ms=policy.backoff_base_ms,
            backoff_cap_ms=policy.backoff_cap_ms,
            jitter=random.random(),
            dead_letter=policy.dead_letter,
        )

    def prewarm(self, functions: dict[str, LoadedFunction]) -> None:
        """Start a worker for each isolated function; stop pools of unloaded or old versions.

        Meant to run after every discovery change, so a first invocation finds a warm worker
        (without it a pool starts its first worker on the first invocation).
        """
        self.calls.prewarm(functions)

    def cancel(self, queue: str, entry_id: str) -> bool:
        """Stop one running invocation and record it ``cancelled``; False if not running here.

        An async handler is cancelled, an isolated one's worker killed; an in-thread sync
        handler cannot be stopped, so its outcome is dropped when it returns.
        """
        job = self.leases.get(queue, entry_id)
        if job is None or job.state != RUNNING or job.task is None or job in self._cancelling:
            return False
        self._cancelling.add(job)
        job.task.cancel()
        return True

    def _cancelled(self, job: Job, fn: LoadedFunction, started: float) -> Completion:
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()  # this task goes on to report the cancellation
        self.cancelled += 1
        return Completion(
            fn.queue,
            job.entry_id,
            job.invocation_id,
            int((time.perf_counter() - started) * 1000),
            error={"type": "Cancelled", "message": "cancelled by DELETE /invocations/{id}"},
            mode="cancel",
        )

    def _malformed(
        self, job: Job, fn: LoadedFunction, fields: dict[bytes, bytes] | None, exc: Exception
    ) -> Completion:
        raw = (fields or {}).get(b"id", b"").decode(errors="replace")
        if function_of(raw) != fn.name:
            raw = f"{fn.name}.invalid-{job.entry_id}"
        job.invocation_id = raw
        message = (
            f"stream entry {job.entry_id} is not a valid invocation ({type(exc).__name__}: "
            f"{exc}); entries must carry 'id', 'p' (JSON payload) and 'a' (attempt) as "
            "written by enqueue"
        )
        log.error("%s: %s", fn.name, message)
        return Completion(
            fn.queue,
            job.entry_id,
            raw,
            0,
            error={"type": "MalformedEntry", "message": clip(message, MESSAGE_CHARS)},
            mode="dead",
        )

    def cancel_running(self) -> list[Job]:
        """Shutdown: stop waiting for every running job; returns them for hand-back."""
        jobs = [job for job in self.leases if job.state == RUNNING]
        for job in jobs:
            job.state = RELEASED
            self.leases.remove(job)
            if job.task is not None:
                job.task.cancel()
        return jobs

    async def drain(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for running handlers to finish; True when none is left."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.running > 0:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self._slot_freed.clear()
            try:
                async with asyncio.timeout(remaining):
                    await self._slot_freed.wait()
            except TimeoutError:
                return False
        return True

    def shutdown(self) -> bool:
        """Kill worker processes, release the thread pool; True when a thread still runs."""
        self._deadlines.close()
        self.calls.shutdown()
        return self.stuck > 0 or self.running > 0


def _sealed(ctx: Context, fn: LoadedFunction, completion: Completion) -> invocation_logs.Sealed:
    """The attempt's lines, cut to their share of the invocation's bound, with their TTL."""
    lines = ctx.lines()
    policy = fn.policy
    error, mode = completion.error, completion.mode
    dead = error is not None and mode != "cancel"
    final = error is None or mode != "retry" or lines.attempt >= policy.max_attempts
    return invocation_logs.seal(
        lines, policy.max_attempts, final=final, dead_letter=policy.dead_letter, dead=dead
    )


def _failure(fn: LoadedFunction, exc: BaseException) -> tuple[dict[str, str], str]:
    """What a handler's exception records, and whether the attempt is retried or dead."""
    if isinstance(exc, HandlerTimeout):
        return timed_out(fn.policy.timeout, killed=fn.isolated), "retry"
    if isinstance(exc, HandlerFailed):  # an isolated handler's, described by its worker
        return bounded(exc.error), exc.mode
    if isinstance(exc, WorkerCrashed):
        return exc.error, "retry"
    if isinstance(exc, WorkerStartFailed):
        return {"type": "WorkerStartFailed", "message": clip(str(exc), MESSAGE_CHARS)}, "retry"
    if isinstance(exc, PermanentError):
        return error_of(exc), "dead"
    return error_of(exc), "retry"
