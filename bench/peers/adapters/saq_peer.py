# mypy: disable-error-code="import-not-found,import-untyped"
# mypy: allow-untyped-decorators, allow-untyped-calls
"""saq adapter: ``python -m bench.peers.adapters.saq_peer`` inside saq's venv.

Worker: ``python -m saq bench.peers.adapters.saq_peer.settings --quiet`` (saq's own CLI;
``--quiet`` leaves logging unconfigured, so only warnings print), ``Worker(concurrency=10)``.
Producer: ``await queue.enqueue("noop", i=i)``, one call at a time.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from typing import Any

from saq import Queue

from bench.peers.adapters import protocol


async def noop(ctx: Any, *, i: int) -> None:
    protocol.record(i)


def settings() -> dict[str, Any]:
    """Called by saq's CLI in the worker process."""
    return {"queue": Queue.from_url(protocol.URL), "functions": [noop], "concurrency": 10}


async def producer() -> Callable[[int], Awaitable[object]]:
    queue = Queue.from_url(protocol.URL)
    await queue.connect()

    async def enqueue(i: int) -> object:
        return await queue.enqueue("noop", i=i)

    return enqueue


if __name__ == "__main__":
    protocol.main(
        [sys.executable, "-m", "saq", "bench.peers.adapters.saq_peer.settings", "--quiet"],
        producer,
        {"peer": "saq", "versions": f"saq {version('saq')}, redis-py {version('redis')}"},
    )
