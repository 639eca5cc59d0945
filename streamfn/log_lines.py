"""What one attempt of a handler logged: a bounded buffer of lines, and the adapter that fills it.

``ctx.log`` (a :class:`CapturingAdapter`) still logs through the function's logger as before,
and keeps a copy of each record at ``STREAMFN_LOG_LEVEL`` or above in the attempt's
:class:`LogLines` (that setting decides, not how the process configured :mod:`logging`).
An isolated handler's worker process keeps its ``print``s to stdout and stderr the same way.

A buffer holds at most ``max_bytes`` of lines: past it the oldest lines are dropped and
counted, so a handler logging in a loop cannot grow the runner's memory; the stored form
starts with a marker line saying how much was dropped.  Imported by worker processes: stdlib
only.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections import deque
from typing import Any

Line = tuple[int, str, str, str]
"""(ms since the epoch, level name, stream: "log", "stdout" or "stderr", message)."""

LINE_OVERHEAD = 48
"""Bytes a stored line costs besides its message (timestamp, level, stream, JSON framing)."""

STREAM_LEVELS = {"stdout": "INFO", "stderr": "WARNING"}
"""The level recorded for a printed line, which has none of its own."""


class LogLines:
    """The last lines of one attempt within ``max_bytes``, and how many were dropped."""

    __slots__ = ("attempt", "dropped_bytes", "dropped_lines", "lines", "max_bytes", "size")

    def __init__(self, attempt: int, max_bytes: int) -> None:
        self.attempt = attempt
        self.max_bytes = max_bytes
        self.lines: deque[Line] = deque()
        self.size = 0
        self.dropped_lines = 0
        self.dropped_bytes = 0

    def add(self, level: str, stream: str, message: str, ts_ms: int | None = None) -> None:
        """Keep one line (cut to the buffer's size if it alone is larger), dropping old ones."""
        room = self.max_bytes - LINE_OVERHEAD
        if len(message) > room // 4 and len(message.encode()) > room:
            message = message.encode()[: max(room, 0)].decode(errors="ignore")
        cost = len(message.encode()) + LINE_OVERHEAD
        when = int(time.time() * 1000) if ts_ms is None else ts_ms
        self.lines.append((when, level, stream, message))
        self.size += cost
        self.trim(self.max_bytes)

    def trim(self, limit: int) -> None:
        """Drop the oldest lines until the rest fit in ``limit`` bytes."""
        lines = self.lines
        while self.size > limit and lines:
            _, _, _, message = lines.popleft()
            cost = len(message.encode()) + LINE_OVERHEAD
            self.size -= cost
            self.dropped_lines += 1
            self.dropped_bytes += cost

    def absorb(self, lines: list[Any], dropped_lines: int = 0, dropped_bytes: int = 0) -> None:
        """Add lines another process captured (an isolated handler's worker), in order."""
        self.dropped_lines += dropped_lines
        self.dropped_bytes += dropped_bytes
        for ts, level, stream, message in lines:
            self.add(str(level), str(stream), str(message), int(ts))

    def __bool__(self) -> bool:
        return bool(self.lines) or self.dropped_lines > 0

    def wire(self) -> dict[str, Any]:
        """The lines as plain JSON values (a worker's reply; the stored form)."""
        # list() first: one C call under the GIL, so a timed-out handler thread that still
        # logs cannot change the deque while it is being read.
        return {
            "lines": [list(line) for line in list(self.lines)],
            "dropped_lines": self.dropped_lines,
            "dropped_bytes": self.dropped_bytes,
        }


class CapturingAdapter(logging.LoggerAdapter[logging.Logger]):
    """``ctx.log``: the function's logger with ``invocation_id`` on every record, copying what
    it logs into the attempt's :class:`LogLines`."""

    def __init__(
        self, logger: logging.Logger, invocation_id: str, lines: LogLines, level: int
    ) -> None:
        super().__init__(logger, {"invocation_id": invocation_id})
        self.captured = lines
        self.level = level

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        logger = self.logger
        if level >= self.level:
            self._keep(level, msg, args, kwargs.get("exc_info"))
        if logger.isEnabledFor(level):
            kwargs["extra"] = self.extra  # as LoggerAdapter.process does
            kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1  # the handler's line
            logger.log(level, msg, *args, **kwargs)

    def _keep(self, level: int, msg: object, args: tuple[Any, ...], exc_info: Any) -> None:
        message = str(msg) % args if args else str(msg)
        if exc_info:
            message = f"{message}\n{_traceback(exc_info).rstrip()}"
        self.captured.add(logging.getLevelName(level), "log", message)


def _traceback(exc_info: Any) -> str:
    if isinstance(exc_info, BaseException):
        return "".join(traceback.format_exception(exc_info))
    if isinstance(exc_info, tuple):
        return "".join(traceback.format_exception(*exc_info))
    return traceback.format_exc()


class StreamCapture:
    """A text stream (``sys.stdout`` of a worker process during a call) that passes writes on
    to the real one and keeps each complete line in a :class:`LogLines`."""

    def __init__(self, real: Any, stream: str, lines: LogLines) -> None:
        self.real = real
        self.stream = stream
        self.level = STREAM_LEVELS[stream]
        self.lines = lines
        self._partial = ""

    def write(self, text: str) -> int:
        written: int = self.real.write(text)
        chunks = (self._partial + text).split("\n")
        self._partial = chunks.pop()
        for chunk in chunks:
            self.lines.add(self.level, self.stream, chunk)
        return written

    def flush(self) -> None:
        self.real.flush()

    def close_line(self) -> None:
        """End of the call: keep a last line that had no newline."""
        if self._partial:
            self.lines.add(self.level, self.stream, self._partial)
            self._partial = ""
        self.real.flush()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty, fileno...: the real stream's
        return getattr(self.real, name)
