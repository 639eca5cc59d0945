"""Child processes that ``streamfn dev`` starts, and stops again by pid.

Every child runs in its own session so a Ctrl-C in the terminal reaches only ``streamfn dev``,
which then stops the children in order (runner and gateway drain first, Redis goes last)
instead of all of them dying at once mid-request.  :class:`SignalFlag` records the signals
that ask ``streamfn dev`` to stop.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if ``streamfn dev`` itself is SIGKILLed.

    Children run in their own session (so no terminal signal reaches them); without this a
    ``kill -9`` of the parent would leave them running, holding ports.
    """
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """One process we started.  ``terminate``/``kill`` only ever signal its own pid."""

    def __init__(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None):
        self.name = name
        self.argv = list(argv)
        self.env = dict(env) if env is not None else None
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, *, quiet: bool = False) -> None:
        """Start it; output goes to our terminal unless ``quiet``."""
        sink = subprocess.DEVNULL if quiet else None
        self._proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=sink,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError(f"{self.name} was never started")
        return self._proc.pid

    @property
    def started(self) -> bool:
        return self._proc is not None

    def returncode(self) -> int | None:
        """The exit status once it has exited (reaping it), else None."""
        return None if self._proc is None else self._proc.poll()

    def terminate(self) -> None:
        """Ask it to stop (SIGTERM) if it is still running."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()

    def wait(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` s; the exit status, or None if it is still running."""
        if self._proc is None:
            return None
        try:
            return self._proc.wait(max(0.0, timeout))
        except subprocess.TimeoutExpired:
            return None


def stop_all(children: Sequence[Child], grace: float) -> None:
    """SIGTERM every started child, wait up to ``grace`` s in total, then SIGKILL the rest."""
    running = [c for c in children if c.started]
    for child in running:
        child.terminate()
    deadline = time.monotonic() + grace
    for child in running:
        if child.wait(deadline - time.monotonic()) is None:
            child.kill()
            child.wait(5.0)


def describe_exit(code: int) -> str:
    """'exit code 3' or 'signal SIGKILL', for messages about a child that died."""
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def python_module(module: str) -> list[str]:
    """argv running ``python -m <module>`` with this interpreter (the same venv as ours)."""
    return [sys.executable, "-m", module]


class SignalFlag:
    """Within ``with``: SIGINT, SIGTERM and SIGHUP set :attr:`signalled` instead of killing us.

    The previous handlers come back on exit.  A flag, not an exception, so a signal can never
    interrupt the shutdown code half way.
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
