"""The backlog: invocations queued or running, summed over every stream of some queues.

Streams hold only live work (finished entries are deleted in the script that finishes them),
so a stream's ``XLEN`` is its queued and running entries, whatever cancels (``cancel.lua``
deletes an entry never delivered) and replays (``replay.lua`` adds a new one) did before.  The
consumer group's ``lag`` (``XINFO GROUPS``) is no substitute: Redis reports it as nil once an
entry past the group's position has been deleted (a cancel of any but the oldest queued
invocation), and a nil lag wakes no autoscaler; and it counts only entries never delivered,
so work held by a runner that died reads 0 though a runner must start to reclaim it.  KEDA
scales the runners on this sum, read from the gateway's ``GET /backlog`` (docs/deploy.md).
One pipelined ``XLEN`` per queue, one round trip per node.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from streamfn.connection import AnyRedis
from streamfn.keys import Keys


async def read_backlog(redis: AnyRedis, keys: Keys, queues: Sequence[str]) -> int:
    """Entries in the streams of ``queues``: their queued and running invocations."""
    if not queues:
        return 0
    async with redis.pipeline(transaction=False) as pipe:
        for queue in queues:
            pipe.xlen(keys.stream(queue))
        counts: list[Any] = await pipe.execute()
    return sum(int(n) for n in counts)
