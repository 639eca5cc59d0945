# mypy: disable-error-code="import-not-found,import-untyped"
# mypy: allow-untyped-decorators, allow-untyped-calls
"""Celery adapter: ``python -m bench.peers.adapters.celery_peer`` inside Celery's venv.

Broker: Redis (kombu), no result backend (Celery's default).  Worker: Celery's CLI,
``python -m celery -A bench.peers.adapters.celery_peer worker -P solo --loglevel WARNING``
(solo: one job at a time in the worker process itself, no pool children).
Producer: ``noop.delay(i)``, one call at a time.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from importlib.metadata import version

from celery import Celery

from bench.peers.adapters import protocol

app = Celery("bench", broker=protocol.URL)
app.conf.update(task_ignore_result=True, broker_connection_retry_on_startup=True)


@app.task(name="noop")
def noop(i: int) -> None:
    protocol.record(i)


async def producer() -> Callable[[int], Awaitable[object]]:
    async def enqueue(i: int) -> object:
        return noop.delay(i)

    return enqueue


if __name__ == "__main__":
    worker = [sys.executable, "-m", "celery", "-A", "bench.peers.adapters.celery_peer"]
    worker += ["worker", "-P", "solo", "--loglevel", "WARNING"]
    protocol.main(
        worker,
        producer,
        {
            "peer": "celery",
            "versions": f"celery {version('celery')}, kombu {version('kombu')}, "
            f"redis-py {version('redis')}",
        },
    )
