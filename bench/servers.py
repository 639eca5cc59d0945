"""The two kinds of Redis the ``scaling`` workload compares: one node and a Redis Cluster.

The run's own Redis (the private server, or ``--redis-url``) is one of them.  The other is
started for the workload on free loopback ports and stopped by pid afterwards, as the bench
starts its private server when no ``--redis-url`` is given: a private cluster of
:data:`MASTERS` masters (``redis-server --cluster-enabled yes`` joined with ``redis-cli
--cluster create``, :class:`streamfn.launch.cluster.PrivateCluster`) when the run's Redis is
one node, a private ``redis-server`` when it is a cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bench.harness import Harness
from bench.nodes import masters
from streamfn.connection import make_redis
from streamfn.launch import PrivateRedis
from streamfn.launch.cluster import PrivateCluster
from streamfn.topology import is_cluster

MASTERS = 3


@dataclass(frozen=True, slots=True)
class Servers:
    """URLs of one Redis node and of a Redis Cluster, and which one was started for this."""

    single: str
    cluster: str
    masters: int
    """The cluster's masters."""
    started: str
    """What the workload started itself, e.g. ``a private 3-master cluster``."""


@asynccontextmanager
async def servers(h: Harness) -> AsyncIterator[Servers]:
    """The run's Redis and the other kind, started here (in a thread: it blocks) for the
    workload's duration."""
    if await asyncio.to_thread(is_cluster, h.settings("bench-probe")):
        redis = make_redis(h.settings("bench-probe"))
        try:
            count = len(await masters(redis))
        finally:
            await redis.aclose()
        one = PrivateRedis()
        await asyncio.to_thread(one.start)
        try:
            yield Servers(one.url, h.redis_url, count, started="a private redis-server")
        finally:
            await asyncio.to_thread(one.stop)
        return
    cluster = PrivateCluster(masters=MASTERS)
    await asyncio.to_thread(cluster.start)
    try:
        started = f"a private {MASTERS}-master cluster"
        yield Servers(h.redis_url, cluster.url, MASTERS, started=started)
    finally:
        await asyncio.to_thread(cluster.stop)
