"""Redis clients built from settings, with timeouts so a dead server fails fast (503)."""

from __future__ import annotations

import asyncio
from typing import Any, TypeAlias
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from streamfn.settings import Settings
from streamfn.topology import is_cluster

AnyRedis: TypeAlias = Redis | RedisCluster
"""A client of one node (or a Sentinel-found master), or of a whole Redis Cluster."""


def make_redis(
    settings: Settings,
    *,
    max_connections: int = 64,
    socket_timeout: float = 5.0,
    pool_timeout: float | None = None,
) -> AnyRedis:
    """A pooled async client.  Bytes in, bytes out (orjson decodes payloads itself).

    With ``pool_timeout`` set, a caller finding every connection busy waits up to that many
    seconds for one (a server with many concurrent requests); without it, it fails at once.
    On a Redis Cluster (:func:`streamfn.topology.is_cluster`) it is redis-py's cluster
    client, ``max_connections`` per node.
    """
    options: dict[str, Any] = {
        "decode_responses": False,
        "max_connections": max_connections,
        "socket_connect_timeout": 2.0,
        "socket_timeout": socket_timeout,
        "health_check_interval": 30,
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=1),
    }
    if is_cluster(settings):
        if pool_timeout is not None:
            return GatedCluster.from_url(settings.redis_url, gate=max_connections, **options)
        return RedisCluster.from_url(settings.redis_url, **options)
    options["retry_on_error"] = [ConnectionResetError]
    if pool_timeout is None:
        return Redis.from_url(settings.redis_url, **options)
    pool = BlockingConnectionPool.from_url(settings.redis_url, timeout=pool_timeout, **options)
    return Redis.from_pool(pool)


class GatedCluster(RedisCluster):
    """redis-py's cluster client, with callers beyond ``gate`` commands in flight waiting.

    Its per-node pools have no wait: a caller finding every connection of a node busy gets
    ``MaxConnectionsError`` at once, where the single-node client's blocking pool waits (the
    gateway's thousand ``?wait=`` callers read their records at the same moment).  The gate
    admits ``gate`` commands at a time; each node allows twice that, for pipelines, which
    take a connection per node outside the gate.
    """

    def __init__(self, *args: Any, gate: int, **kwargs: Any) -> None:
        kwargs["max_connections"] = 2 * gate
        super().__init__(*args, **kwargs)
        self._gate = asyncio.Semaphore(gate)

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self._gate:
            return await super().execute_command(*args, **kwargs)


def redact(url: str) -> str:
    """``url`` without its password, for banners and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
