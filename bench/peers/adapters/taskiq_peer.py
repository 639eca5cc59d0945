# mypy: disable-error-code="import-not-found,import-untyped"
# mypy: allow-untyped-decorators, allow-untyped-calls
"""taskiq adapter: ``python -m bench.peers.adapters.taskiq_peer`` inside taskiq's venv.

Broker: taskiq-redis ``RedisStreamBroker`` (consumer group on a stream), no result backend.
Worker: ``taskiq worker bench.peers.adapters.taskiq_peer:broker --workers 1
--max-async-tasks 10 --log-level WARNING`` (ack type: the default, when_saved); the broker's
redis-py ``socket_timeout`` is 60 s instead of 5 s (see below).
Producer: ``await noop.kiq(i)``, one call at a time, after ``broker.startup()`` has declared the
consumer group (its default start id ``$`` would skip jobs sent before the group exists).
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from importlib.metadata import version

from taskiq_redis import RedisStreamBroker

from bench.peers.adapters import protocol

# socket_timeout: redis-py 8 defaults to 5 s, and the worker's blocked XREADGROUP then times out
# and kills the worker when the drain phase freezes it (SIGSTOP) for longer than that.
broker = RedisStreamBroker(url=protocol.URL, socket_timeout=60)


@broker.task(task_name="noop")
async def noop(i: int) -> None:
    protocol.record(i)


async def producer() -> Callable[[int], Awaitable[object]]:
    await broker.startup()

    async def enqueue(i: int) -> object:
        return await noop.kiq(i)

    return enqueue


if __name__ == "__main__":
    worker = [sys.executable, "-m", "taskiq", "worker", "bench.peers.adapters.taskiq_peer:broker"]
    worker += ["--workers", "1", "--max-async-tasks", "10", "--log-level", "WARNING"]
    protocol.main(
        worker,
        producer,
        {
            "peer": "taskiq",
            "versions": f"taskiq {version('taskiq')}, taskiq-redis {version('taskiq-redis')}, "
            f"redis-py {version('redis')}",
        },
    )
