"""CPU time of the processes the bench measures, read from ``/proc`` (Linux), and its own.

The bench starts its gateways and runners through :class:`streamfn.launch.Stack` and passes
their pids here, so each figure is the CPU a process really used, never wall time.
"""

from __future__ import annotations

import os
from pathlib import Path

from streamfn.launch import Child

_TICK = os.sysconf("SC_CLK_TCK")


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


def cpu_seconds(*children: Child) -> float:
    """CPU of these children (and their descendants) so far, in seconds."""
    return sum(tree_cpu_seconds(child.pid) for child in children)


def self_cpu_seconds() -> float:
    """CPU of this (the load-generating) process so far."""
    t = os.times()
    return t.user + t.system
