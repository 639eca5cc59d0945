"""Processes the bench starts: gateway and runners, with CPU time read from ``/proc``.

Each :class:`Service` wraps one ``subprocess.Popen``; it is stopped, paused (SIGSTOP) and
resumed (SIGCONT) by its own pid only.  Its stderr goes to a file in the run's temp dir so a
failure to start can be shown to the user.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")
_LIVE: set[Service] = set()


@atexit.register
def _reap() -> None:
    """Last resort after Ctrl-C or a crash: our children run in their own sessions, so no
    terminal signal reaches them; stop whichever we started and did not stop."""
    for svc in list(_LIVE):
        svc.stop(grace=3.0)


@dataclass(frozen=True, slots=True)
class StackEnv:
    """What every gateway and runner of one workload shares (the ``STREAMFN_*`` variables)."""

    redis_url: str
    namespace: str
    functions_dir: Path
    log_dir: Path

    def environ(self, port: int = 0) -> dict[str, str]:
        # Drop the caller's STREAMFN_* so a stray variable cannot change what we measure.
        env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMFN_")}
        env.update(
            STREAMFN_REDIS_URL=self.redis_url,
            STREAMFN_NAMESPACE=self.namespace,
            STREAMFN_FUNCTIONS_DIR=str(self.functions_dir),
            STREAMFN_HOST="127.0.0.1",
            STREAMFN_PORT=str(port),
            STREAMFN_RUNNER_METRICS_PORT="0",
            STREAMFN_LOG_LEVEL="WARNING",
        )
        return env


class Service:
    """One gateway or runner process."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}-{time.monotonic_ns()}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                args, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True
            )
        _LIVE.add(self)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(text[-lines:])

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def cpu_seconds(self) -> float:
        """User + system CPU of this process and its live descendants so far."""
        return tree_cpu_seconds(self.pid)

    def stop(self, grace: float = 10.0) -> None:
        _LIVE.discard(self)
        if not self.alive():
            return
        try:
            os.kill(self.pid, signal.SIGCONT)  # a paused process cannot handle SIGTERM
            self.proc.terminate()
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        except ProcessLookupError:
            pass


def start_gateway(stack: StackEnv, port: int) -> Service:
    args = [sys.executable, "-m", "streamfn.gateway"]
    return Service("gateway", args, stack.environ(port), stack.log_dir)


def start_runner(
    stack: StackEnv, concurrency: int | None = None, *, burst: bool = False
) -> Service:
    args = [sys.executable, "-m", "streamfn.runner"]
    if concurrency is not None:
        args += ["--concurrency", str(concurrency)]
    if burst:
        args.append("--burst")
    return Service("runner", args, stack.environ(), stack.log_dir)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; everything after its ")" is fixed.
    return raw[raw.rindex(")") + 2 :].split()


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of one process (``/proc/<pid>/stat`` fields 14 and 15), in seconds."""
    f = _stat_fields(pid)
    if f is None:
        return 0.0
    return (int(f[11]) + int(f[12])) / _TICK


def tree_cpu_seconds(pid: int) -> float:
    """CPU of ``pid`` and every live descendant (a runner may fork helpers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            f = _stat_fields(int(entry.name))
            if f is not None:
                children.setdefault(int(f[1]), []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += process_cpu_seconds(p)
        todo.extend(children.get(p, []))
    return total


def self_cpu_seconds() -> float:
    """CPU of this (the load-generating) process so far."""
    t = os.times()
    return t.user + t.system
