"""The workloads, one module each; a module's docstring says exactly what it measures.

Each module has ``NAME`` and ``async def run(h: Harness) -> WorkloadResult``.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.harness import Harness
    from bench.result import WorkloadResult

ORDER = (
    "floor",
    "http-throughput",
    "client-throughput",
    "sync-latency",
    "timers",
    "scaling",
    "drain",
    "drain-logs",
    "idle",
    "peers",
)


def load(name: str) -> Callable[[Harness], Awaitable[WorkloadResult]]:
    """The ``run`` function of workload ``name`` (one of :data:`ORDER`)."""
    if name not in ORDER:
        raise ValueError(f"unknown workload {name!r}; choose from: {', '.join(ORDER)}")
    module = importlib.import_module(f"bench.workloads.{name.replace('-', '_')}")
    run: Callable[[Harness], Awaitable[WorkloadResult]] = module.run
    return run


def describe(name: str) -> str:
    """The first paragraph of the workload's docstring, on one line."""
    module = importlib.import_module(f"bench.workloads.{name.replace('-', '_')}")
    return " ".join((module.__doc__ or name).strip().split("\n\n")[0].split())
