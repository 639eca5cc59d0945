"""Redis clients built from settings, with timeouts so a dead server fails fast (503)."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from streamfn.settings import Settings


def make_redis(
    settings: Settings, *, max_connections: int = 64, socket_timeout: float = 5.0
) -> Redis:
    """A pooled async client.  Bytes in, bytes out (orjson decodes payloads itself)."""
    return Redis.from_url(
        settings.redis_url,
        decode_responses=False,
        max_connections=max_connections,
        socket_connect_timeout=2.0,
        socket_timeout=socket_timeout,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=1),
        retry_on_error=[ConnectionResetError],
    )
