"""The three ways a handler is called, each under its function's timeout.

* isolated (``ISOLATE``, and plain ``def`` handlers under ``STREAMFN_ISOLATE_SYNC``): in the
  function's pool of worker processes (:mod:`.pools`); a timeout or a cancel kills the
  worker, so the work really stops;
* ``async def``: awaited in the job's own task, which the executor cancels at the deadline
  (:mod:`runner.deadlines`) or on a cancel request;
* plain ``def`` with isolation off: in a thread pool.  A thread cannot be stopped, so past its
  timeout it keeps its thread (and the runner's slot, see :attr:`Calls.stuck`) until it returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from streamfn.context import Context
from streamfn.runner.handler_import import LoadedFunction
from streamfn.runner.isolation.pools import HandlerTimeout, Pools
from streamfn.runner.isolation.worker import Target


class HandlerFailed(Exception):
    """An isolated handler's failure, already described by its worker."""

    def __init__(self, error: dict[str, str], mode: str) -> None:
        super().__init__(error.get("message", ""))
        self.error = error
        self.mode = mode


class Calls:
    """Runs handlers; ``on_unstuck`` is called when a timed-out thread finally returns."""

    def __init__(
        self,
        threads: int,
        on_unstuck: Callable[[], None],
        log_level: str,
        max_result: int = 1024 * 1024,
        log_max_bytes: int = 0,
    ) -> None:
        self.stuck = 0
        self.max_result = max_result
        self.log_max_bytes = log_max_bytes
        self.pools = Pools(log_level)
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="handler")
        self._on_unstuck = on_unstuck

    def _target(self, fn: LoadedFunction) -> Target:
        p = fn.policy
        return Target(
            fn.name,
            str(fn.path),
            p.memory_mb,
            p.workers,
            self.pools.log_level,
            self.max_result,
            self.log_max_bytes,
        )

    async def call(self, fn: LoadedFunction, raw: bytes, payload: Any, ctx: Context) -> Any:
        """The handler's result; for an isolated one, already encoded as JSON bytes."""
        if fn.isolated:
            return await self._isolated(fn, raw, ctx)
        if fn.is_async:
            return await fn.handle(payload, ctx)
        return await self._thread(fn, payload, ctx)

    async def _isolated(self, fn: LoadedFunction, raw: bytes, ctx: Context) -> bytes:
        pool = self.pools.get(fn.name, fn.module_name, self._target(fn))
        header = {"id": ctx.invocation_id, "attempt": ctx.attempt, "deadline": ctx.deadline}
        reply = await pool.run(header, raw, fn.policy.timeout)
        if reply.logs:  # what the worker captured joins this attempt's lines (ctx.captured)
            ctx.lines().absorb(
                reply.logs.get("lines", []),
                int(reply.logs.get("dropped_lines", 0)),
                int(reply.logs.get("dropped_bytes", 0)),
            )
        if not reply.ok:
            raise HandlerFailed(reply.error or {"type": "Error", "message": ""}, reply.mode)
        return reply.result

    async def _thread(self, fn: LoadedFunction, payload: Any, ctx: Context) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._threads, fn.handle, payload, ctx)
        try:
            done, _ = await asyncio.wait((future,), timeout=fn.policy.timeout)
        except asyncio.CancelledError:
            self._abandon(future)
            raise
        if done:
            return future.result()
        self._abandon(future)
        raise HandlerTimeout

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
        self._on_unstuck()

    def prewarm(self, functions: dict[str, LoadedFunction]) -> None:
        """Start a worker for each isolated function; stop pools of unloaded or old versions."""
        for fn in functions.values():
            if fn.isolated:
                self.pools.get(fn.name, fn.module_name, self._target(fn)).prewarm()
        self.pools.retire({n: f.module_name for n, f in functions.items() if f.isolated})

    def shutdown(self) -> None:
        """Kill every worker process; stop taking thread work (running threads go on)."""
        self.pools.close()
        self._threads.shutdown(wait=False, cancel_futures=True)
