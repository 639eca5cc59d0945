"""Child processes we start (redis-server, gateways, runners) and stop again by their own pid.

Every child runs in its own session, so a Ctrl-C in the terminal reaches only its parent,
which then stops the children in order (runners and gateways drain first, Redis goes last)
instead of all of them dying at once mid-request.  A child also gets SIGTERM if its parent
is SIGKILLed, and whatever is still running when the parent exits normally is stopped then:
nothing we start outlives us holding a port.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
_LIVE: set[Child] = set()
"""Started and not stopped yet: what :func:`_reap` stops at exit."""
EXIT_GRACE = 3.0
"""Seconds a child still running at interpreter exit gets to stop before SIGKILL."""


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if the parent itself is SIGKILLed.

    Children run in their own session (so no terminal signal reaches them); without this a
    ``kill -9`` of the parent would leave them running, holding ports.
    """
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """One process we start.  Every signal it is sent goes to its own pid only."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        *,
        cwd: Path | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.port = port
        """The port it serves on, when it serves one (a gateway)."""
        self.host = host
        """The address to reach it at from this machine."""
        self.log: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, *, log: Path | None = None, quiet: bool = False) -> Child:
        """Start it: stdout and stderr go to ``log``, nowhere when ``quiet``, else to ours."""
        self.log = log
        with contextlib.ExitStack() as files:
            sink: IO[bytes] | int | None = subprocess.DEVNULL if quiet else None
            if log is not None:
                sink = files.enter_context(log.open("wb"))
            self._proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
                start_new_session=True,
                # The kernel ties the parent-death signal to the forking *thread*: a child
                # started from a worker thread would be stopped when that thread ends.
                preexec_fn=_die_with_parent if _on_main_thread() else None,
            )
        _LIVE.add(self)
        return self

    @property
    def popen(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise RuntimeError(f"{self.name} was never started")
        return self._proc

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def started(self) -> bool:
        return self._proc is not None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def returncode(self) -> int | None:
        """The exit status once it has exited (reaping it), else None."""
        return None if self._proc is None else self._proc.poll()

    def alive(self) -> bool:
        return self.started and self.returncode() is None

    def signal(self, sig: int) -> None:
        """Send ``sig`` if it is still running."""
        if self.alive():
            self.popen.send_signal(sig)

    def terminate(self) -> None:
        """Ask it to stop: SIGCONT first (a paused process cannot act on it), then SIGTERM."""
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    def pause(self) -> None:
        self.signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.signal(signal.SIGCONT)

    def wait(self, timeout: float) -> int | None:
        """Wait up to ``timeout`` s; the exit status, or None if it is still running."""
        if self._proc is None:
            return None
        try:
            return self._proc.wait(max(0.0, timeout))
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM, up to ``grace`` s, then SIGKILL; the exit status (None: never started)."""
        stop_all([self], grace)
        return self.returncode()

    def output(self) -> str:
        """Everything it wrote to its log so far ("" without a log)."""
        if self.log is None:
            return ""
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.output().splitlines()[-lines:])


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
        _LIVE.discard(child)


def describe_exit(code: int) -> str:
    """'exit code 3' or 'signal SIGKILL', for messages about a child that died."""
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def python_module(module: str, *args: str) -> list[str]:
    """argv running ``python -m <module> ARGS`` with this interpreter (the same venv as ours)."""
    return [sys.executable, "-m", module, *args]


def _on_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@atexit.register
def _reap() -> None:
    """Last resort after an error or a Ctrl-C: stop whichever child is still running."""
    stop_all([c for c in list(_LIVE) if c.alive()], EXIT_GRACE)
