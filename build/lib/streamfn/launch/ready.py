"""Waiting for a gateway we started to be ready: ``/healthz`` answers and runners reported.

Ready can ask for more than a live HTTP server: that ``GET /functions`` (the catalog
``POST /invoke`` checks) counts ``runners`` runners and names each of ``functions``, loaded
or failed, so an invocation sent the moment we return is accepted, never ``404``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection, Sequence

from streamfn.launch.children import Child, describe_exit
from streamfn.launch.probes import Served, healthy, served

READY_TIMEOUT = 30.0
POLL = 0.05


class NotReady(RuntimeError):
    """Not ready within the timeout; the message says what was missing."""


class ChildExited(RuntimeError):
    """A process we were waiting on (or beside) exited; :attr:`child` is the one."""

    def __init__(self, child: Child, code: int) -> None:
        self.child = child
        self.code = code
        text = f"the {child.name} (pid {child.pid}) stopped unexpectedly ({describe_exit(code)})"
        if child.log is not None:
            text += f"; its log ({child.log}):\n{child.log_tail()}"
        super().__init__(text)


def raise_if_exited(children: Sequence[Child]) -> None:
    """Raise :class:`ChildExited` for the first of ``children`` that is no longer running."""
    for child in children:
        code = child.returncode()
        if code is not None:
            raise ChildExited(child, code)


class _Probe:
    """One gateway's readiness, probed in rounds; remembers the last answer for the error."""

    def __init__(self, gateway: Child, functions: Collection[str], runners: int) -> None:
        self.gateway = gateway
        self.functions = frozenset(functions)
        self.runners = runners
        self.healthy = False
        self.seen = Served()

    def ready(self) -> Served | None:
        self.healthy = healthy(f"{self.gateway.url}/healthz")
        if not self.healthy:
            return None
        if self.functions or self.runners:
            self.seen = served(f"{self.gateway.url}/functions")
        known = {*self.seen.functions, *self.seen.failed}
        if self.seen.runners >= self.runners and self.functions <= known:
            return self.seen
        return None

    def failure(self, timeout: float) -> NotReady:
        missing = sorted(self.functions - {*self.seen.functions, *self.seen.failed})
        text = (
            f"not ready within {timeout:.0f} s: {self.gateway.url}/healthz answers "
            f"{'200' if self.healthy else 'no 200'}, "
            f"{self.seen.runners} runner(s) reported to the gateway"
        )
        if missing:
            text += f", and these functions are not reported yet: {', '.join(missing)}"
        if self.gateway.log is not None:
            text += f"; its log ({self.gateway.log}):\n{self.gateway.log_tail()}"
        return NotReady(text)


def wait_ready(
    gateway: Child,
    *,
    functions: Collection[str] = (),
    runners: int = 0,
    watch: Sequence[Child] = (),
    timeout: float = READY_TIMEOUT,
    abort: Callable[[], bool] | None = None,
) -> Served | None:
    """What ``gateway`` serves once ready; None as soon as ``abort()`` is true.

    Raises :class:`ChildExited` if the gateway or one of ``watch`` exits meanwhile, and
    :class:`NotReady` after ``timeout`` s.
    """
    probe = _Probe(gateway, functions, runners)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if abort is not None and abort():
            return None
        raise_if_exited([gateway, *watch])
        if (seen := probe.ready()) is not None:
            return seen
        time.sleep(POLL)
    raise probe.failure(timeout)


async def await_ready(
    gateway: Child,
    *,
    functions: Collection[str] = (),
    runners: int = 0,
    watch: Sequence[Child] = (),
    timeout: float = READY_TIMEOUT,
) -> Served:
    """:func:`wait_ready` for a caller on an event loop: the probes run in a thread."""
    probe = _Probe(gateway, functions, runners)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raise_if_exited([gateway, *watch])
        if (seen := await asyncio.to_thread(probe.ready)) is not None:
            return seen
        await asyncio.sleep(POLL)
    raise probe.failure(timeout)
