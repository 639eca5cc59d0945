# mypy: disable-error-code="import-not-found,import-untyped"
# mypy: allow-untyped-decorators, allow-untyped-calls
"""dramatiq adapter: ``python -m bench.peers.adapters.dramatiq_peer`` inside dramatiq's venv.

Broker: ``RedisBroker`` with the default middleware.  Worker: dramatiq's CLI,
``python -m dramatiq bench.peers.adapters.dramatiq_peer --processes 1 --threads 10`` (a
supervisor process plus one worker process; CPU is summed over the tree).
Producer: ``noop.send(i)``, one call at a time.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from importlib.metadata import version

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from bench.peers.adapters import protocol

dramatiq.set_broker(RedisBroker(url=protocol.URL))


@dramatiq.actor(actor_name="noop")
def noop(i: int) -> None:
    protocol.record(i)


async def producer() -> Callable[[int], Awaitable[object]]:
    async def enqueue(i: int) -> object:
        return noop.send(i)

    return enqueue


if __name__ == "__main__":
    worker = [sys.executable, "-m", "dramatiq", "bench.peers.adapters.dramatiq_peer"]
    worker += ["--processes", "1", "--threads", "10"]
    protocol.main(
        worker,
        producer,
        {
            "peer": "dramatiq",
            "versions": f"dramatiq {version('dramatiq')}, redis-py {version('redis')}",
        },
    )
