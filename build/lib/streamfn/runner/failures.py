"""How a failed attempt is described: the error dict stored on the invocation and dead letter.

Shared by the executor (in-process handlers) and the isolated worker
(:mod:`runner.isolation.child`), so a handler's exception reads the same wherever it ran.
Kept free of asyncio and Redis imports: a worker process imports it on start.
"""

from __future__ import annotations

import signal
import traceback

TRACEBACK_LINES = 20
MESSAGE_CHARS = 2000
"""An error message is cut to this many characters, its start kept, with a marker."""
TRACEBACK_CHARS = 8000
"""A traceback is cut to this many characters, its end kept (the raising frame), with a marker.

With the message cap, a stored error stays near 10 KB whatever a handler raises: a 20 MB
``repr`` in an exception cannot fill Redis through the record and the dead-letter stream."""
TYPE_CHARS = 200


def clip(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, keeping the start, marked where it was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters cut]"


def clip_tail(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, keeping the end, marked where it was cut."""
    if len(text) <= limit:
        return text
    return f"[{len(text) - limit} earlier characters cut] ...{text[-limit:]}"


def error_of(exc: BaseException) -> dict[str, str]:
    """The error recorded for a failed attempt: type, message and the last traceback lines."""
    lines = "".join(traceback.format_exception(exc)).splitlines()
    return {
        "type": clip(type(exc).__name__, TYPE_CHARS),
        "message": clip(str(exc), MESSAGE_CHARS),
        "traceback": clip_tail("\n".join(lines[-TRACEBACK_LINES:]), TRACEBACK_CHARS),
    }


MARKER_ROOM = 64
"""Room for the cut marker: a field :func:`error_of` already cut is not cut again."""


def bounded(error: dict[str, str]) -> dict[str, str]:
    """``error`` (from a worker process, say) with every field within the caps above."""
    out: dict[str, str] = {}
    for name, value in list(error.items())[:16]:
        text = value if isinstance(value, str) else str(value)
        if name == "traceback":
            out[name[:64]] = clip_tail(text, TRACEBACK_CHARS + MARKER_ROOM)
        else:
            out[name[:64]] = clip(text, MESSAGE_CHARS + MARKER_ROOM)
    return out


def result_too_large(size: int, limit: int) -> dict[str, str]:
    """The permanent error for a result over ``STREAMFN_MAX_RESULT``: nothing of it is stored."""
    return {
        "type": "ResultTooLarge",
        "message": (
            f"the handler's result is {size} bytes of JSON, over the limit of {limit} bytes "
            "(STREAMFN_MAX_RESULT); store large outputs elsewhere (a file or object store) and "
            "return a reference to them, or raise STREAMFN_MAX_RESULT"
        ),
        "size": str(size),
        "limit": str(limit),
    }


def unserialisable(exc: Exception) -> dict[str, str]:
    """The permanent error for a result that cannot be stored as JSON."""
    return {
        "type": "UnserializableResult",
        "message": clip(
            f"the handler's result cannot be stored as JSON ({exc}); return dicts, lists, "
            "strings, numbers, booleans or None",
            MESSAGE_CHARS,
        ),
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
