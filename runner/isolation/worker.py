"""One worker process of an isolated function, seen from the runner: start, call, kill.

A worker (:mod:`.child`) imports the handler once and then runs calls one at a time, so
an invocation costs one socket round trip, not a process start.  When a call times out or is
cancelled, its worker gets SIGKILL (its CPU and memory are freed at once) and a fresh worker
is started in the background to keep the pool warm.  A worker that dies mid-call (``os._exit``,
segfault, out of memory) fails the attempt with ``WorkerCrashed``; it is never a success.

Workers run in their own session (a terminal's Ctrl-C reaches only the runner), with the
runner's environment minus ``STREAMFN_*`` (no Redis credentials), and die with the runner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
from dataclasses import dataclass
from typing import Any

import orjson

from streamfn.runner.failures import worker_crashed
from streamfn.runner.isolation.wire import FrameError, frame, length_of

log = logging.getLogger("streamfn.runner.isolation")

START_TIMEOUT = 30.0  # seconds a worker may take to import its handler
REAP_TIMEOUT = 2.0


class WorkerStartFailed(Exception):
    """A worker could not import its handler; the message says why."""


class WorkerCrashed(Exception):
    """The worker process ended before it answered; ``error`` is what the attempt records."""

    def __init__(self, returncode: int | None) -> None:
        self.error = worker_crashed(returncode)
        super().__init__(self.error["message"])


@dataclass(frozen=True, slots=True)
class Reply:
    """A worker's answer: the result's JSON bytes, or an error and how to treat it."""

    ok: bool
    result: bytes
    error: dict[str, str] | None
    mode: str
    exiting: bool
    logs: dict[str, Any] | None = None
    """What the handler logged and printed during the call (``LogLines.wire``), if anything."""


@dataclass(frozen=True, slots=True)
class Target:
    """What a pool runs: the handler file and the worker's limits."""

    name: str
    path: str
    memory_mb: int | None
    size: int
    log_level: str = "INFO"
    max_result: int = 1024 * 1024
    """Largest result the worker sends back (STREAMFN_MAX_RESULT); it refuses a larger one."""
    log_max_bytes: int = 0
    """Log bytes a call keeps (STREAMFN_LOG_MAX_BYTES); 0: the worker captures nothing."""


def _child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("STREAMFN_")}


class Worker:
    """One worker process and the runner's end of its socket."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.proc = proc
        self.reader = reader
        self.writer = writer

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    @classmethod
    async def start(cls, target: Target) -> Worker:
        ours, theirs = socket.socketpair()
        spec = {
            "fd": theirs.fileno(),
            "path": target.path,
            "name": target.name,
            "memory_mb": target.memory_mb or 0,
            "runner_pid": os.getpid(),
            "log_level": target.log_level,
            "max_result": target.max_result,
            "log_max_bytes": target.log_max_bytes,
        }
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "streamfn.runner.isolation.child",
                orjson.dumps(spec).decode(),
                pass_fds=(theirs.fileno(),),
                stdin=asyncio.subprocess.DEVNULL,
                start_new_session=True,
                env=_child_env(),
            )
        except BaseException:
            ours.close()  # a child that did start reads end-of-file and exits
            raise
        finally:
            theirs.close()
        reader, writer = await asyncio.open_connection(sock=ours)
        worker = cls(proc, reader, writer)
        try:
            async with asyncio.timeout(START_TIMEOUT):
                hello = orjson.loads(await worker._read())
        except (TimeoutError, asyncio.IncompleteReadError, FrameError, ValueError) as exc:
            worker.kill()
            raise WorkerStartFailed(
                f"worker for {target.name} did not start ({type(exc).__name__}); see the "
                "runner's log for its output"
            ) from None
        except BaseException:
            worker.kill()
            raise
        if not hello.get("ready"):
            worker.kill()
            raise WorkerStartFailed(str(hello.get("error")))
        return worker

    async def _read(self) -> bytes:
        length = length_of(await self.reader.readexactly(4))
        return await self.reader.readexactly(length)

    async def call(self, header: dict[str, Any], payload: bytes) -> Reply:
        """Send one call and wait for its reply; :class:`WorkerCrashed` if the process died."""
        try:
            self.writer.write(frame(orjson.dumps(header)) + frame(payload))
            await self.writer.drain()
            raw = await self._read()
            body = await self._read()
        except (asyncio.IncompleteReadError, ConnectionError, FrameError):
            raise WorkerCrashed(await self._reap()) from None
        reply = orjson.loads(raw)
        error = reply.get("error")
        mode = str(reply.get("mode", "retry"))
        leaving = mode != "dead" and error is not None and self._exit_after(error)
        return Reply(bool(reply["ok"]), body, error, mode, leaving, reply.get("logs"))

    @staticmethod
    def _exit_after(error: dict[str, str]) -> bool:
        return error.get("type") in {"SystemExit", "KeyboardInterrupt", "MemoryError"}

    async def _reap(self) -> int | None:
        """Wait (briefly) for the process to end; its return code."""
        try:
            async with asyncio.timeout(REAP_TIMEOUT):
                return await self.proc.wait()
        except TimeoutError:
            self.kill()
            return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL: a handler that spins or blocks gets no chance to delay it."""
        self.writer.close()
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
