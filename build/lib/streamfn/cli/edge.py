"""The process edge every entry point shares: argument types, the event loop, logging set-up,
signals and exit codes.

``streamfn`` and each of its commands, and the bench's ``python -m bench``, take these from
here, so a port or a count is checked the same way everywhere and every long-running process
stops the same way: the first SIGINT or SIGTERM asks for a graceful stop, a second one tells
a component that counts them (the runner) to stop waiting for its work.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

EXIT_OK = 0
EXIT_USAGE = 2
"""A bad argument or setting (argparse's code too)."""
EXIT_INTERRUPTED = 130
"""The shell convention for "stopped by SIGINT"."""
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class UsageError(Exception):
    """A bad argument that argparse cannot see: reported in one line, exit code 2."""


# --- argument types ---------------------------------------------------------------------------


def port(raw: str) -> int:
    """A TCP port; 0 means any free one."""
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be a port number from 0 to 65535")
    return value


def positive_int(raw: str) -> int:
    """A count of at least 1."""
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be a whole number >= 1")
    return value


def seconds(raw: str) -> float:
    """A duration in seconds, 0 or more."""
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number of seconds") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{raw!r} must be 0 or more seconds")
    return value


# --- event loop and logging -------------------------------------------------------------------


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop where it is installed, else None (asyncio's own, which works too)."""
    try:
        import uvloop
    except ImportError:  # not available on every platform (Windows)
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion on a fresh loop from :func:`loop_factory`."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


def setup_logging(level: str) -> None:
    """Log to stderr at ``level`` (``STREAMFN_LOG_LEVEL``), one line per record."""
    logging.basicConfig(level=level, format=LOG_FORMAT)


# --- signals ----------------------------------------------------------------------------------


class StopSignals:
    """Within ``async with``: SIGINT and SIGTERM call ``on_stop`` instead of killing us.

    The handlers stay for the whole block, so a signal during the graceful stop cannot cut
    it off half way; ``on_stop`` is called again for it (the runner's second call means
    "hand running work back now").  The loop's previous handling comes back on exit.
    """

    def __init__(self, on_stop: Callable[[], None]) -> None:
        self.on_stop = on_stop

    async def __aenter__(self) -> StopSignals:
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.on_stop)
        return self

    async def __aexit__(self, *exc: object) -> None:
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)


class SignalFlag:
    """Within ``with``: SIGINT, SIGTERM and SIGHUP set :attr:`signalled` instead of killing us.

    For a process without an event loop (``streamfn dev``).  The previous handlers come back
    on exit.  A flag, not an exception, so a signal can never interrupt the shutdown code
    half way.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.signalled: signal.Signals | None = None
        self._previous: dict[signal.Signals, object] = {}

    def __enter__(self) -> SignalFlag:
        for sig in self.SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def _handle(self, signum: int, frame: object) -> None:
        self.signalled = signal.Signals(signum)
