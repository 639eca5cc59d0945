"""index cost: what the invocation index adds to each invocation, in Redis bytes and Lua µs.

Self-contained (it imports only ``streamfn``), so the same file measures any tree: run it
with that tree first on ``PYTHONPATH`` to measure the tree's scripts::

    .venv/bin/python bench/index_cost.py                        # this tree
    PYTHONPATH=/path/to/main .venv/bin/python bench/index_cost.py   # another checkout

A private ``redis-server`` (loopback, no persistence); N invocations (default 20,000, 5
tagged in 100) queued with ``Client.enqueue_many`` and ``RDB.enqueue``, delivered with
XREADGROUP as a runner does and completed with ``finish_many`` in the runner's chunks.
``CONFIG RESETSTAT`` before each phase; ``enqueue_us`` and ``complete_us`` are
``cmdstat_evalsha`` usec over the phase / N (Redis time inside the scripts, per invocation);
``index_bytes`` is ``MEMORY USAGE ... SAMPLES 0`` of the queue's ``ix:*`` keys / N once all
are finished (their entries live as long as the records); ``used_memory`` is the server's
growth over the run / N; the records have a 4 s TTL, and ``trim_us`` is the Redis time of
``index_trim.lua`` taking their index entries out once they expired, / N (what
complete.lua's and fail.lua's own trims cost in steady state).  Median of ``--repeat`` runs
(default 3), each on a fresh namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import uuid
from dataclasses import replace
from typing import Any

from streamfn.client import Client
from streamfn.connection import make_redis
from streamfn.keys import GROUP, Keys
from streamfn.launch.redis_server import PrivateRedis
from streamfn.names import new_invocation_id
from streamfn.outcomes import Completion
from streamfn.rdb import RDB
from streamfn.settings import DEFAULTS

FN = "noop"
TTL_S = 4.0
"""Result TTL of the run: the records expire, and ``trim_us`` measures taking them out."""


async def evalsha_usec(redis: Any) -> int:
    stats: Any = await redis.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("usec", 0))


async def trim_cost(redis: Any, keys: Keys, ttl_s: float) -> int:
    """usec of Redis time taking every expired record's entries out of the index, once all
    have expired (a tree without the index: 0)."""
    try:
        from streamfn.index import trim
    except ImportError:
        return 0
    await asyncio.sleep(ttl_s + 0.5)  # every record was finished before this call
    await redis.config_resetstat()
    await trim(redis, keys, FN)
    used = await evalsha_usec(redis)
    if await redis.exists(keys.stream(FN).rsplit(":", 1)[0] + ":ix:status"):
        raise RuntimeError("index entries outlived their records' TTL")
    return used


async def one_run(url: str, n: int) -> dict[str, float]:
    settings = replace(
        DEFAULTS, redis_url=url, namespace="cost" + uuid.uuid4().hex[:8], result_ttl=TTL_S
    )
    redis = make_redis(settings)
    keys = Keys.of(settings)
    client, rdb = Client(redis, settings), RDB(redis, settings)
    tagged = "tags" in RDB.enqueue.__code__.co_varnames  # a tree without tags: untagged
    try:
        base = int((await redis.info("memory"))["used_memory"])
        await redis.config_resetstat()
        plain = n - n // 20
        for start in range(0, plain, 1000):
            await client.enqueue_many(FN, [b"null"] * min(1000, plain - start))
        extra: dict[str, Any] = {"tags": ("red", "v1")} if tagged else {}
        calls = [rdb.enqueue(FN, new_invocation_id(FN), b"null", **extra) for _ in range(n - plain)]
        await asyncio.gather(*calls)
        enqueue_us = await evalsha_usec(redis)
        await redis.config_resetstat()
        done = 0
        while done < n:
            reply: Any = await redis.xreadgroup(GROUP, "r1", {keys.stream(FN): ">"}, count=1000)
            items = [Completion(FN, e.decode(), f[b"id"].decode(), 0) for e, f in reply[0][1]]
            await rdb.finish_many("r1", items)
            done += len(items)
        complete_us = await evalsha_usec(redis)
        used = int((await redis.info("memory"))["used_memory"]) - base
        index_bytes = 0
        for kind in ("status", "by", "expiry", "counts", "minutes"):
            name = f"{keys.stream(FN).rsplit(':', 1)[0]}:ix:{kind}"
            index_bytes += int(await redis.memory_usage(name, samples=0) or 0)
        trim_us = await trim_cost(redis, keys, settings.result_ttl)
        return {
            "trim_us": trim_us / n,
            "enqueue_us": enqueue_us / n,
            "complete_us": complete_us / n,
            "lua_us": (enqueue_us + complete_us) / n,
            "index_bytes": index_bytes / n,
            "used_memory_bytes": used / n,
        }
    finally:
        await redis.aclose()


async def main(n: int, repeat: int) -> dict[str, Any]:
    with PrivateRedis() as server:
        runs = [await one_run(server.url, n) for _ in range(repeat)]
    return {
        "n": n,
        "repeat": repeat,
        "median": {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]},
        "runs": runs,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.n, args.repeat)), indent=2))
