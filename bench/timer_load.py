"""Bulk-scheduling invocations at chosen due times, through the ``enqueue`` script.

``Client.enqueue_many`` queues for *now* only; the timers workload needs thousands of distinct
absolute due times, so it pipelines the same ``lua/enqueue.lua`` calls itself, built by the
script's encoder with ``at_ms`` (absolute due ms) and no backlog cap.  The due times it chose are
returned so lateness can be computed after promotion (which drops the record's ``due``).
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.failure import BenchError
from bench.progress import Progress
from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.names import new_invocation_id
from streamfn.scripts import SCRIPTS, run_batch
from streamfn.scripts.invocation_calls import enqueue

BATCH = 1000


async def redis_now_ms(redis: AnyRedis) -> int:
    sec, usec = await redis.time()
    return int(sec) * 1000 + int(usec) // 1000


async def schedule(
    redis: AnyRedis,
    keys: Keys,
    function: str,
    due_ms: Sequence[int],
    payload: bytes = b"null",
    progress: Progress | None = None,
) -> list[str]:
    """Schedule one invocation per due time (epoch ms, Redis clock); returns the ids in order."""
    ids: list[str] = []
    for start in range(0, len(due_ms), BATCH):
        calls = []
        for due in due_ms[start : start + BATCH]:
            inv = new_invocation_id(function)
            ids.append(inv)
            calls.append(enqueue(keys, function, inv, payload, at_ms=int(due)))
        for reply in await run_batch(redis, calls):
            if isinstance(reply, Exception):
                raise BenchError(f"enqueue script failed while scheduling timers: {reply}")
        if progress is not None:
            progress.update(len(calls))
    return ids


def script_names() -> dict[str, str]:
    """SHA1 -> script name, to say which Lua script a SLOWLOG entry was."""
    return {script.sha: script.name for script in SCRIPTS.all()}
