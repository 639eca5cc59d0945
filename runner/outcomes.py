"""How a failed attempt is described: the error dict stored on the invocation and dead letter.

Shared by the executor (in-process handlers) and the isolated worker (:mod:`runner.child`),
so a handler's exception reads the same wherever it ran.  Kept free of asyncio and Redis
imports: a worker process imports it on start.
"""

from __future__ import annotations

import signal
import traceback

TRACEBACK_LINES = 20
MESSAGE_CHARS = 2000


def error_of(exc: BaseException) -> dict[str, str]:
    """The error recorded for a failed attempt: type, message and the last traceback lines."""
    lines = "".join(traceback.format_exception(exc)).splitlines()
    return {
        "type": type(exc).__name__,
        "message": str(exc)[:MESSAGE_CHARS],
        "traceback": "\n".join(lines[-TRACEBACK_LINES:]),
    }


def unserialisable(exc: Exception) -> dict[str, str]:
    """The permanent error for a result that cannot be stored as JSON."""
    return {
        "type": "UnserializableResult",
        "message": (
            f"the handler's result cannot be stored as JSON ({exc}); return dicts, lists, "
            "strings, numbers, booleans or None"
        )[:MESSAGE_CHARS],
    }


def timed_out(timeout: float, *, killed: bool) -> dict[str, str]:
    """Our timeout fired; ``killed`` when the handler's worker process was killed for it."""
    message = f"timed out after {timeout:g} s"
    if killed:
        message += "; the worker process running it was killed"
    return {"type": "TimeoutError", "message": message}


def exit_description(returncode: int | None) -> str:
    """'exit code 3' or 'signal SIGSEGV' for a worker process that ended."""
    if returncode is None:
        return "an unknown status"
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


def worker_crashed(returncode: int | None) -> dict[str, str]:
    """The worker process died before it answered: never a success, whatever its status."""
    return {
        "type": "WorkerCrashed",
        "message": (
            f"the worker process running the handler ended with {exit_description(returncode)} "
            "before returning a result (os._exit, a crash in native code, or killed by the "
            "system); the attempt counts as failed"
        ),
        "exit": exit_description(returncode),
    }
