"""The handlers the bench invokes, written to a temp functions dir for each run.

``noop`` is what every throughput figure uses (the peers run an equally empty job body);
``echo`` mirrors ``functions/echo.py`` for the sync-latency round trip; ``noop_log`` is the no-op
plus one ``ctx.log.info`` (the ``drain-logs`` workload: what log capture costs).  All are
``async def``
so the runner calls them on its event loop, not through a thread pool.  The ``scaling``
workload writes more no-op functions into directories of their own (:func:`write_noops`):
several spread over the masters, or one hot one declaring ``PARTITIONS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

NOOP = "noop"
ECHO = "echo"
NOOP_LOG = "noop_log"

_BODY = "async def handle(payload, ctx):\n    return None\n"

_SOURCES = {
    NOOP: f'"""noop: does nothing; the bench measures the system around it."""\n\n\n{_BODY}',
    ECHO: '"""echo: returns its payload."""\n\n\n'
    "async def handle(payload, ctx):\n    return payload\n",
    NOOP_LOG: '"""noop_log: logs one line through ctx.log, then does nothing."""\n\n\n'
    'async def handle(payload, ctx):\n    ctx.log.info("handled %s", payload["i"])\n'
    "    return None\n",
}


def write_functions(directory: Path) -> Path:
    """Create ``directory`` holding the bench handlers; returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, source in _SOURCES.items():
        (directory / f"{name}.py").write_text(source)
    return directory


def noop_source(name: str, partitions: int | None = None) -> str:
    """A no-op handler file; with ``partitions``, it declares ``PARTITIONS = N`` (the module
    constant that spreads one function's keys over N hash tags, like ``TIMEOUT``)."""
    head = f'"""{name}: does nothing; the bench measures the system around it."""\n\n'
    policy = f"PARTITIONS = {partitions}\n\n" if partitions is not None else ""
    return f"{head}{policy}\n{_BODY}"


def write_noops(directory: Path, names: Iterable[str], partitions: int | None = None) -> Path:
    """Create ``directory`` holding one no-op handler per name (and nothing else)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        (directory / f"{name}.py").write_text(noop_source(name, partitions))
    return directory
