"""Worker pools: up to ``WORKERS`` warm processes per isolated function, killed on timeout.

:meth:`Pools.run` takes an idle worker (starting one if the pool is below its size, else
waiting for one), sends the call and waits at most the function's timeout.  A worker is
discarded (SIGKILL) when the call times out, is cancelled (lease lost, shutdown,
``DELETE /invocations/{id}``) or its process died, and a replacement starts in the background.
A function reloaded from a changed file gets a new pool; the old one's workers are stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from streamfn.runner.isolation.worker import (
    Reply,
    Target,
    Worker,
    WorkerCrashed,
    WorkerStartFailed,
)

log = logging.getLogger("streamfn.runner.isolation")


class HandlerTimeout(Exception):
    """Our timeout fired (as opposed to a TimeoutError the handler raised itself).

    For an isolated handler its worker was killed; a thread is left to finish on its own."""


class Pool:
    """The workers of one loaded version of one function."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.started = 0  # workers ever started (tests and metrics read it)
        self._idle: asyncio.Queue[Worker | None] = asyncio.Queue()
        self._count = 0  # live or starting workers
        self._all: set[Worker] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def size(self) -> int:
        return self._count

    def pids(self) -> list[int]:
        return [w.pid for w in self._all if w.alive]

    async def _spawn(self) -> Worker:
        try:
            worker = await Worker.start(self.target)
        except BaseException:
            self._count -= 1
            raise
        self.started += 1
        if self._closed:
            worker.kill()
            raise WorkerStartFailed(f"the pool of {self.target.name} was closed")
        self._all.add(worker)
        return worker

    def prewarm(self) -> None:
        """Start one worker in the background so the first call finds it ready."""
        if self._count == 0 and not self._closed:
            self._replace()

    def _replace(self) -> None:
        """Start a worker in the background and hand it to the next caller."""
        self._count += 1

        async def start() -> None:
            try:
                worker = await self._spawn()
            except Exception as exc:
                log.error("%s: starting a worker failed: %s", self.target.name, exc)
                self._idle.put_nowait(None)  # a waiter tries (and reports) the start itself
                return
            self._idle.put_nowait(worker)

        task = asyncio.get_running_loop().create_task(start())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _acquire(self) -> Worker:
        while True:
            if self._idle.empty() and self._count < self.target.size:
                self._count += 1
                return await self._spawn()
            worker = await self._idle.get()
            if worker is not None and worker.alive:
                return worker
            if worker is not None:
                self._discard(worker, replace=False)

    def _discard(self, worker: Worker, *, replace: bool) -> None:
        worker.kill()
        if worker in self._all:
            self._all.discard(worker)
            self._count -= 1
        if replace and not self._closed:
            self._replace()

    async def run(self, header: dict[str, Any], payload: bytes, timeout: float) -> Reply:
        """One call within ``timeout`` s; raises HandlerTimeout or WorkerCrashed."""
        worker = await self._acquire()
        keep = False
        try:
            async with asyncio.timeout(timeout):
                reply = await worker.call(header, payload)
            keep = not reply.exiting
            return reply
        except TimeoutError:
            raise HandlerTimeout from None
        except WorkerCrashed:
            raise
        finally:
            if keep and not self._closed:
                self._idle.put_nowait(worker)
            else:
                self._discard(worker, replace=True)

    def close(self) -> None:
        """Kill every worker now (shutdown, or the function was reloaded or removed)."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        for worker in list(self._all):
            self._discard(worker, replace=False)
        with contextlib.suppress(asyncio.QueueEmpty):
            while True:
                self._idle.get_nowait()


class Pools:
    """The pool of each isolated function, keyed by the loaded module (so a reload is new)."""

    def __init__(self, log_level: str = "INFO") -> None:
        self.log_level = log_level
        self._pools: dict[str, tuple[str, Pool]] = {}

    def get(self, name: str, module: str, target: Target) -> Pool:
        """The pool for this version of ``name``; retires a pool of an older version."""
        current = self._pools.get(name)
        if current is not None and current[0] == module:
            return current[1]
        if current is not None:
            current[1].close()
        pool = Pool(target)
        self._pools[name] = (module, pool)
        return pool

    def retire(self, keep: dict[str, str]) -> None:
        """Close pools whose function is gone or was reloaded; ``keep`` maps name -> module."""
        for name, (module, pool) in list(self._pools.items()):
            if keep.get(name) != module:
                pool.close()
                del self._pools[name]

    def pids(self) -> list[int]:
        return [pid for _, pool in self._pools.values() for pid in pool.pids()]

    def close(self) -> None:
        for _, pool in self._pools.values():
            pool.close()
        self._pools.clear()
