"""The worker process of an isolated function: import the handler once, then run calls.

Started by :mod:`.worker` as ``python -m streamfn.runner.isolation.child <spec JSON>``.  It
limits its own address space (``MEMORY_MB``) before importing the handler, dies with the
runner (``PR_SET_PDEATHSIG``), and answers each call with a result or an error over the
socket it inherited.  Everything a handler raises, ``SystemExit`` and ``KeyboardInterrupt``
included, is reported as a failed attempt; after one of those (or a ``MemoryError``) the
worker exits and the runner starts a fresh one, since the interpreter's state can no longer
be trusted.
"""

from __future__ import annotations

import ctypes
import importlib.util
import inspect
import logging
import os
import resource
import signal
import socket
import sys
import time
from typing import Any

import orjson

from streamfn.context import Context, PermanentError
from streamfn.log_lines import StreamCapture
from streamfn.runner.failures import MESSAGE_CHARS, clip, error_of, result_too_large, unserialisable
from streamfn.runner.isolation.wire import frame, read_frame

_PR_SET_PDEATHSIG = 1
MiB = 1024 * 1024


def _die_with_runner(runner_pid: int) -> None:
    """SIGKILL this process when the runner ends, even by ``kill -9``: no orphaned work."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != runner_pid:  # the runner died before the line above took effect
        os._exit(0)


def _limit(memory_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a segfault must not write a core file
    if memory_mb:
        limit = memory_mb * MiB
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _load(path: str, name: str) -> Any:
    module_name = f"_streamfn_worker_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module.handle


class Worker:
    """Runs calls of one handler, one at a time."""

    def __init__(
        self,
        name: str,
        handle: Any,
        memory_mb: int,
        max_result: int = 1024 * 1024,
        log_max_bytes: int = 0,
        log_level: str = "INFO",
    ) -> None:
        self.name = name
        self.log_max_bytes = log_max_bytes
        self.capture_level: int = logging.getLevelName(log_level.upper())
        self.max_result = max_result
        self.handle = handle
        self.memory_mb = memory_mb
        self.is_async = inspect.iscoroutinefunction(handle) or inspect.iscoroutinefunction(
            getattr(handle, "__call__", None)  # noqa: B004 - an instance with async __call__
        )
        self.loop = None
        if self.is_async:
            import asyncio  # only here: it is a third of a worker's start-up time

            self.loop = asyncio.new_event_loop()
        self.log = logging.getLogger(f"streamfn.fn.{name}")

    def call(self, header: dict[str, Any], payload: bytes) -> tuple[dict[str, Any], bytes, bool]:
        """(reply header, result bytes, exit afterwards?) for one call; the header carries
        what the handler logged and printed (``logs``) when it did."""
        ctx = Context(
            header["id"],
            self.name,
            header["attempt"],
            header["deadline"],
            self.log,
            self.log_max_bytes,
            self.capture_level,
        )
        if not self.log_max_bytes:
            return self._call(ctx, payload)
        lines = ctx.lines()
        out = StreamCapture(sys.stdout, "stdout", lines)
        err = StreamCapture(sys.stderr, "stderr", lines)
        sys.stdout, sys.stderr = out, err
        try:
            reply, body, leave = self._call(ctx, payload)
        finally:
            sys.stdout, sys.stderr = out.real, err.real
            out.close_line()
            err.close_line()
        if lines:
            reply["logs"] = lines.wire()
        return reply, body, leave

    def _call(self, ctx: Context, payload: bytes) -> tuple[dict[str, Any], bytes, bool]:
        try:
            value = orjson.loads(payload)
            if self.loop is not None:
                result = self.loop.run_until_complete(self.handle(value, ctx))
            else:
                result = self.handle(value, ctx)
        except PermanentError as exc:
            return {"ok": False, "error": error_of(exc), "mode": "dead"}, b"", False
        except MemoryError as exc:
            error = error_of(exc)
            error["message"] = (
                f"the handler ran out of memory: MEMORY_MB = {self.memory_mb} caps this worker's "
                "address space; raise MEMORY_MB or use less memory"
                if self.memory_mb
                else f"the handler ran out of memory ({exc})"
            )
            return {"ok": False, "error": error, "mode": "retry"}, b"", True
        except Exception as exc:
            return {"ok": False, "error": error_of(exc), "mode": "retry"}, b"", False
        except BaseException as exc:  # SystemExit, KeyboardInterrupt: report, then end
            error = error_of(exc)
            error["message"] = (
                f"the handler raised {type(exc).__name__}({exc}) to end its process; "
                "the attempt counts as failed"
            )
            return {"ok": False, "error": error, "mode": "retry"}, b"", True
        try:
            body = orjson.dumps(result)
        except TypeError as exc:
            return {"ok": False, "error": unserialisable(exc), "mode": "dead"}, b"", False
        if len(body) > self.max_result:  # never sent: the runner would refuse it anyway
            error = result_too_large(len(body), self.max_result)
            return {"ok": False, "error": error, "mode": "dead"}, b"", False
        return {"ok": True}, body, False


def serve(sock: socket.socket, worker: Worker) -> int:
    """Answer calls until the runner closes the socket (or a call says to exit)."""
    stream = sock.makefile("rb")
    while True:
        raw = read_frame(stream)
        if raw is None:
            return 0
        payload = read_frame(stream)
        if payload is None:
            return 0
        started = time.perf_counter()
        reply, body, leave = worker.call(orjson.loads(raw), payload)
        reply["ms"] = int((time.perf_counter() - started) * 1000)
        sock.sendall(frame(orjson.dumps(reply)) + frame(body))
        if leave:
            return 0


def main(argv: list[str]) -> int:
    spec = orjson.loads(argv[0])
    _die_with_runner(spec["runner_pid"])
    # The runner shuts its workers down itself; a Ctrl-C meant for it must not hit a handler.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(
        level=spec["log_level"], format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    sock = socket.socket(fileno=spec["fd"])
    _limit(spec["memory_mb"])
    try:
        handle = _load(spec["path"], spec["name"])
    except BaseException as exc:
        message = f"import failed in the worker process: {type(exc).__name__}: {exc}"
        sock.sendall(frame(orjson.dumps({"ready": False, "error": clip(message, MESSAGE_CHARS)})))
        return 1
    sock.sendall(frame(orjson.dumps({"ready": True, "pid": os.getpid()})))
    worker = Worker(
        spec["name"],
        handle,
        spec["memory_mb"],
        spec.get("max_result", 1024 * 1024),
        spec.get("log_max_bytes", 0),
        spec["log_level"],
    )
    return serve(sock, worker)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
