"""The probe handler and its execution log: what really ran, recorded outside Redis.

The probe appends ``S <id> <attempt> <pid> <t>`` when it starts and ``E ...`` when it returns
to a local file (``O_APPEND``: lines from several runner processes never interleave), so the
checker counts executions without trusting the system under test.  Times are this host's wall
clock, shared by every process of a scenario.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

SOURCE = '''
"""probe: records each execution to PROBE_FILE, sleeps payload["sleep"] s, returns its pid."""
import asyncio, os, time

TIMEOUT = {timeout}
RETRIES = {retries}
_fd = os.open(os.environ["PROBE_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
_pid = os.getpid()


def _note(kind, ctx):
    line = f"{{kind}} {{ctx.invocation_id}} {{ctx.attempt}} {{_pid}} {{time.time():.6f}}\\n"
    os.write(_fd, line.encode())


async def handle(payload, ctx):
    _note("S", ctx)
    seconds = (payload or {{}}).get("sleep", 0) if isinstance(payload, dict) else 0
    if seconds:
        await asyncio.sleep(seconds)
    _note("E", ctx)
    return {{"pid": _pid, "attempt": ctx.attempt}}
'''


def write_probe(
    functions: Path, name: str = "probe", *, timeout: float = 60, retries: int = 3
) -> None:
    """Write ``functions/<name>.py``: the probe handler."""
    (functions / f"{name}.py").write_text(
        textwrap.dedent(SOURCE.format(timeout=timeout, retries=retries))
    )


@dataclass(frozen=True, slots=True)
class Execution:
    """One run of the probe: when and where it started, and when it returned (if it did)."""

    id: str
    attempt: int
    pid: int
    start: float
    end: float | None


def read_executions(log: Path) -> list[Execution]:
    """Executions in start order; a start without an end was killed (or is still running)."""
    if not log.exists():
        return []
    open_runs: dict[tuple[str, int], list[tuple[int, float]]] = {}
    done: list[Execution] = []
    for line in log.read_text().splitlines():
        parts = line.split()
        if len(parts) != 5:
            continue  # a line cut short by kill -9 mid-write
        kind, inv, attempt, pid, t = (
            parts[0],
            parts[1],
            int(parts[2]),
            int(parts[3]),
            float(parts[4]),
        )
        key = (inv, pid)
        if kind == "S":
            open_runs.setdefault(key, []).append((attempt, t))
        elif open_runs.get(key):
            a, started = open_runs[key].pop(0)
            done.append(Execution(inv, a, pid, started, t))
    for (inv, pid), runs in open_runs.items():
        done.extend(Execution(inv, a, pid, t, None) for a, t in runs)
    return sorted(done, key=lambda e: e.start)
