# mypy: disable-error-code="import-not-found,import-untyped"
# mypy: allow-untyped-decorators, allow-untyped-calls
"""arq adapter: ``python -m bench.peers.adapters.arq_peer`` inside arq's venv.

Worker: ``arq.worker.run_worker(WorkerSettings)`` (what arq's CLI calls) with logging at
WARNING (the CLI logs every job at INFO), ``max_jobs=10``, ``poll_delay=0.05``: at arq's
default 0.5 s a queue filled in real time drains at exactly 100 jobs per poll = 200 jobs/s.
Producer: ``await pool.enqueue_job("noop", i)``, one call at a time.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from typing import Any

from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import run_worker

from bench.peers.adapters import protocol


async def noop(ctx: Any, i: int) -> None:
    protocol.record(i)


class WorkerSettings:
    functions = (noop,)
    redis_settings = RedisSettings.from_dsn(protocol.URL)
    max_jobs = 10
    poll_delay = 0.05


async def producer() -> Callable[[int], Awaitable[object]]:
    pool = await create_pool(WorkerSettings.redis_settings)

    async def enqueue(i: int) -> object:
        return await pool.enqueue_job("noop", i)

    return enqueue


if __name__ == "__main__":
    if sys.argv[1:] == ["worker"]:
        logging.basicConfig(level=logging.WARNING)
        run_worker(WorkerSettings)
    else:
        protocol.main(
            [sys.executable, "-m", "bench.peers.adapters.arq_peer", "worker"],
            producer,
            {"peer": "arq", "versions": f"arq {version('arq')}, redis-py {version('redis')}"},
        )
