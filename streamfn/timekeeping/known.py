"""Which queues exist, read from Redis alone, so a process that runs no handler (``streamfn
scheduler``) can serve them while no runner is live.

A timekeeper always watches every shard tag, and every function's home queue lives in one, so
unpartitioned functions need no list at all.  Only partition queues have tags of their own:
those come from the ``PARTITIONS`` layouts runners recorded (``{ns:registry}:layouts``, kept
after the runners are gone) and from the catalog, which holds every *deployed* function
(:mod:`streamfn.deployed`) with its policy, a live runner or not.  :func:`known_queues` is the
one place this list is made.
"""

from __future__ import annotations

from streamfn import partitions
from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.layouts import read_layouts
from streamfn.registry import read_catalog


async def known_queues(redis: AnyRedis, keys: Keys) -> set[str]:
    """Every queue of every deployed function (live runner or not), and of every layout
    recorded."""
    queues: set[str] = set()
    for name, policy in (await read_catalog(redis, keys)).functions.items():
        p = int(policy.get("partitions") or 1)
        if partitions.is_partition_count(p):
            queues.update(partitions.queues(name, p))
    for name, layouts in (await read_layouts(redis, keys)).items():
        for p in layouts:
            if partitions.is_partition_count(p):
                queues.update(partitions.queues(name, p))
    return queues
