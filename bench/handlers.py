"""The handlers the bench invokes, written to a temp functions dir for each run.

``noop`` is what every throughput figure uses (the peers run an equally empty job body);
``echo`` mirrors ``functions/echo.py`` for the sync-latency round trip.  Both are ``async def``
so the runner calls them on its event loop, not through a thread pool.
"""

from __future__ import annotations

from pathlib import Path

NOOP = "noop"
ECHO = "echo"

_SOURCES = {
    NOOP: '"""noop: does nothing; the bench measures the system around it."""\n\n\n'
    "async def handle(payload, ctx):\n    return None\n",
    ECHO: '"""echo: returns its payload."""\n\n\n'
    "async def handle(payload, ctx):\n    return payload\n",
}


def write_functions(directory: Path) -> Path:
    """Create ``directory`` holding the bench handlers; returns it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, source in _SOURCES.items():
        (directory / f"{name}.py").write_text(source)
    return directory
