"""Executor: run one delivered entry's handler and turn what happened into a Completion.

Async handlers run as tasks under ``asyncio.timeout``; plain ``def`` handlers run in a thread
pool of ``concurrency`` threads with the timeout applied to the await.  Outcomes go to the
completer; nothing here talks to Redis, so an invocation costs no round trip of its own.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from runner.completer import Completer
from runner.jobs import DONE, RELEASED, RUNNING, Job, Leases
from runner.loader import LoadedFunction
from runner.metrics import Metrics
from streamfn import codec
from streamfn.context import Context, PermanentError
from streamfn.names import function_of
from streamfn.rdb import Completion

log = logging.getLogger("streamfn.runner.executor")

TRACEBACK_LINES = 20
MESSAGE_CHARS = 2000


class _HandlerTimeout(Exception):
    """Our timeout fired (as opposed to a TimeoutError the handler raised itself)."""


def error_of(exc: BaseException) -> dict[str, str]:
    """The error recorded for a failed attempt: type, message and the last traceback lines."""
    lines = "".join(traceback.format_exception(exc)).splitlines()
    return {
        "type": type(exc).__name__,
        "message": str(exc)[:MESSAGE_CHARS],
        "traceback": "\n".join(lines[-TRACEBACK_LINES:]),
    }


class Executor:
    """Runs up to ``concurrency`` handlers at once; see :attr:`free` for the reader's budget."""

    def __init__(
        self, concurrency: int, leases: Leases, completer: Completer, metrics: Metrics
    ) -> None:
        self.concurrency = concurrency
        self.leases = leases
        self.completer = completer
        self.metrics = metrics
        self.running = 0
        # Sync handlers past their timeout: their threads cannot be killed, so they keep a
        # pool thread (and a slot) until they return.  A later issue runs sync handlers in
        # child processes, which can be killed.
        self.stuck = 0
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="handler")
        self._slot_freed = asyncio.Event()

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
        job = Job(fn.name, entry_id, fn.is_async)
        self.leases.add(job)
        self.running += 1
        job.task = asyncio.get_running_loop().create_task(self._run(job, fn, fields))
        return job

    async def _run(self, job: Job, fn: LoadedFunction, fields: dict[bytes, bytes] | None) -> None:
        completion: Completion | None = None
        try:
            completion = await self._attempt(job, fn, fields)
        except asyncio.CancelledError:
            pass  # lease lost or shutdown: the entry's new owner (or the stream) has it
        finally:
            self.running -= 1
            self._slot_freed.set()
        if completion is not None and job.state == RUNNING:
            job.state = DONE
            self.completer.add(job, completion)

    async def _attempt(
        self, job: Job, fn: LoadedFunction, fields: dict[bytes, bytes] | None
    ) -> Completion:
        started = time.perf_counter()
        try:
            invocation_id = fields[b"id"].decode()  # type: ignore[index]
            if function_of(invocation_id) != fn.name:
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
            logging.LoggerAdapter(fn.log, {"invocation_id": invocation_id}),
        )
        error: dict[str, str]
        mode = "retry"
        try:
            if fn.is_async:
                result = await self._call_async(fn, payload, ctx)
            else:
                result = await self._call_sync(fn, payload, ctx)
        except asyncio.CancelledError:
            raise
        except _HandlerTimeout:
            error = {"type": "TimeoutError", "message": f"timed out after {policy.timeout:g} s"}
        except PermanentError as exc:
            error, mode = error_of(exc), "dead"
        except BaseException as exc:  # SystemExit from a handler must not end the runner
            error = error_of(exc)
        else:
            seconds = time.perf_counter() - started
            self.metrics.observe(fn.name, seconds)
            try:
                body = codec.dumps(result)
            except TypeError as exc:
                error, mode = _unserialisable(exc), "dead"
            else:
                return Completion(fn.name, job.entry_id, invocation_id, int(seconds * 1000), body)
        seconds = time.perf_counter() - started
        if mode == "retry":
            self.metrics.observe(fn.name, seconds)
        return Completion(
            fn.name,
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

    async def _call_async(self, fn: LoadedFunction, payload: Any, ctx: Context) -> Any:
        deadline = asyncio.timeout(fn.policy.timeout)
        try:
            async with deadline:
                return await fn.handle(payload, ctx)
        except TimeoutError:
            if deadline.expired():
                raise _HandlerTimeout from None
            raise  # the handler's own TimeoutError: an ordinary failure

    async def _call_sync(self, fn: LoadedFunction, payload: Any, ctx: Context) -> Any:
        future = asyncio.get_running_loop().run_in_executor(self._pool, fn.handle, payload, ctx)
        try:
            done, _ = await asyncio.wait((future,), timeout=fn.policy.timeout)
        except asyncio.CancelledError:
            self._abandon(future)
            raise
        if done:
            return future.result()
        self._abandon(future)
        raise _HandlerTimeout

    def _abandon(self, future: asyncio.Future[Any]) -> None:
        """Stop waiting for a thread we cannot stop; its slot frees when it returns."""
        if future.done():
            return
        self.stuck += 1
        future.add_done_callback(self._unstick)

    def _unstick(self, future: asyncio.Future[Any] | Future[Any]) -> None:
        if not future.cancelled():
            future.exception()  # retrieved, so asyncio does not log it as never retrieved
        self.stuck -= 1
        self._slot_freed.set()

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
            fn.name,
            job.entry_id,
            raw,
            0,
            error={"type": "MalformedEntry", "message": message[:MESSAGE_CHARS]},
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
        """Release the thread pool; True when a handler thread is still running."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        return self.stuck > 0 or self.running > 0


def _unserialisable(exc: Exception) -> dict[str, str]:
    return {
        "type": "UnserializableResult",
        "message": (
            f"the handler's result cannot be stored as JSON ({exc}); return dicts, lists, "
            "strings, numbers, booleans or None"
        )[:MESSAGE_CHARS],
    }
