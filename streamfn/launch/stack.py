"""A process stack: gateways, runners and schedulers started as ``python -m streamfn
gateway|runner|scheduler``.

Every child reads its settings from the environment it is handed (the ``STREAMFN_*``
variables), so a stack runs exactly the production code.  With a log dir each child's output
goes to its own file there (shown when it fails to start); without one, to our terminal.
The stack stops runners first, so they drain in-flight work while the gateways can still
answer their ``?wait=`` callers, then the gateways, then the schedulers: each by its own pid.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from streamfn.launch.children import Child, python_module, stop_all
from streamfn.launch.ports import free_port, reachable
from streamfn.launch.probes import Served
from streamfn.launch.ready import READY_TIMEOUT, await_ready, raise_if_exited, wait_ready
from streamfn.settings import DEFAULTS


def _log(log_dir: Path | None, name: str) -> Path | None:
    return log_dir / f"{name}-{time.monotonic_ns()}.log" if log_dir is not None else None


def spawn_runner(
    env: Mapping[str, str], log_dir: Path | None, *args: str, cwd: Path | None = None
) -> Child:
    """Start ``streamfn runner ARGS`` (e.g. ``--concurrency 2``, ``--burst``)."""
    child = Child("runner", python_module("streamfn", "runner", *args), env, cwd=cwd)
    return child.start(log=_log(log_dir, "runner"))


def spawn_scheduler(
    env: Mapping[str, str], log_dir: Path | None, *args: str, cwd: Path | None = None
) -> Child:
    """Start ``streamfn scheduler ARGS``."""
    child = Child("scheduler", python_module("streamfn", "scheduler", *args), env, cwd=cwd)
    return child.start(log=_log(log_dir, "scheduler"))


def spawn_gateway(
    env: Mapping[str, str],
    log_dir: Path | None,
    *args: str,
    port: int = 0,
    cwd: Path | None = None,
) -> Child:
    """Start ``streamfn gateway ARGS`` on ``port`` (a free one if 0); not yet ready."""
    port = port or free_port()
    host = reachable(env.get("STREAMFN_HOST", DEFAULTS.host))
    env = {**env, "STREAMFN_PORT": str(port)}
    argv = python_module("streamfn", "gateway", *args)
    child = Child("gateway", argv, env, cwd=cwd, port=port, host=host)
    return child.start(log=_log(log_dir, "gateway"))


class Stack:
    """Gateways, runners and schedulers sharing one environment; :meth:`stop` ends every one."""

    def __init__(
        self, env: Mapping[str, str], log_dir: Path | None = None, *, cwd: Path | None = None
    ) -> None:
        self.env = dict(env)
        self.log_dir = log_dir
        self.cwd = cwd
        self.runners: list[Child] = []
        self.gateways: list[Child] = []
        self.schedulers: list[Child] = []

    @property
    def gateway(self) -> Child | None:
        """The first gateway started, if any."""
        return self.gateways[0] if self.gateways else None

    @property
    def children(self) -> list[Child]:
        """Every child, in stopping order."""
        return [*self.runners, *self.gateways, *self.schedulers]

    def start_runner(self, *args: str, **env: str) -> Child:
        child = spawn_runner({**self.env, **env}, self.log_dir, *args, cwd=self.cwd)
        self.runners.append(child)
        return child

    def start_scheduler(self, *args: str, **env: str) -> Child:
        child = spawn_scheduler({**self.env, **env}, self.log_dir, *args, cwd=self.cwd)
        self.schedulers.append(child)
        return child

    def start_gateway(self, *args: str, port: int = 0, **env: str) -> Child:
        child = spawn_gateway({**self.env, **env}, self.log_dir, *args, port=port, cwd=self.cwd)
        self.gateways.append(child)
        return child

    def check_alive(self) -> None:
        """Raise :class:`~streamfn.launch.ready.ChildExited` if any child has exited."""
        raise_if_exited(self.children)

    def wait_ready(
        self,
        gateway: Child,
        *,
        functions: Collection[str] = (),
        runners: int = 0,
        timeout: float = READY_TIMEOUT,
        abort: Callable[[], bool] | None = None,
    ) -> Served | None:
        """:func:`~streamfn.launch.ready.wait_ready`, failing if any child of ours exits."""
        return wait_ready(
            gateway,
            functions=functions,
            runners=runners,
            watch=self.children,
            timeout=timeout,
            abort=abort,
        )

    async def await_ready(
        self,
        gateway: Child,
        *,
        functions: Collection[str] = (),
        runners: int = 0,
        timeout: float = READY_TIMEOUT,
    ) -> Served:
        """:func:`~streamfn.launch.ready.await_ready`, failing if any child of ours exits."""
        return await await_ready(
            gateway, functions=functions, runners=runners, watch=self.children, timeout=timeout
        )

    def stop_runners(self, grace: float = 10.0) -> None:
        """Stop every runner by pid (together, within ``grace`` s) and forget them."""
        stop_all(self.runners, grace)
        self.runners.clear()

    def stop(self, grace: float = 10.0) -> None:
        """Runners first, then gateways, then schedulers, each group within ``grace`` s."""
        self.stop_runners(grace)
        stop_all(self.gateways, grace)
        self.gateways.clear()
        stop_all(self.schedulers, grace)
        self.schedulers.clear()
