"""A fixed client workload to count instructions with callgrind, where wall time is too noisy.

Enqueues ``N`` no-op invocations with ``Client.enqueue_many``, delivers them with XREADGROUP
and completes them with ``outcomes.finish_many``, 1,000 at a time, against a Redis you started
(a private one: it writes a fresh namespace).  Run it at two sizes and divide the difference,
so start-up and imports cancel out::

    for n in 1000 6000; do
      PYTHONHASHSEED=0 valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python -m bench.instructions redis://127.0.0.1:PORT/0 $n 2>&1 | grep Collected
    done
    # instructions per invocation = (I(6000) - I(1000)) / 5000

Only public streamfn API is used, so the same file measures an older checkout too
(``PYTHONPATH=<checkout> python bench/instructions.py ...``: run by path, since an older
checkout has no ``bench.instructions``).
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import replace
from typing import Any

from streamfn.client import Client
from streamfn.connection import make_redis
from streamfn.keys import GROUP
from streamfn.outcomes import Completion, finish_many
from streamfn.settings import DEFAULTS

FUNCTION = "noop"
BATCH = 1000


async def run(url: str, count: int) -> None:
    settings = replace(DEFAULTS, redis_url=url, namespace=f"cg{os.getpid()}", max_backlog=0)
    redis = make_redis(settings)
    client = Client(redis, settings)
    stream = client.keys.stream(FUNCTION)
    done = 0
    try:
        for start in range(0, count, BATCH):
            size = min(BATCH, count - start)
            await client.enqueue_many(FUNCTION, [None] * size)
            reply: Any = await redis.xreadgroup(GROUP, "c1", {stream: ">"}, count=size)
            items = [Completion(FUNCTION, e.decode(), f[b"id"].decode(), 1) for e, f in reply[0][1]]
            out = await finish_many(redis, client.keys, settings, "c1", items)
            done += sum(1 for o in out if o == "succeeded")
    finally:
        await redis.aclose()
    if done != count:
        raise SystemExit(f"only {done} of {count} invocations completed")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python -m bench.instructions REDIS_URL COUNT")
    asyncio.run(run(sys.argv[1], int(sys.argv[2])))
