"""Redis's own clock, read with ``TIME``: every due time and retention runs on it.

``TIME`` goes on its own round trip: redis-py's cluster pipeline refuses keyless commands.
"""

from __future__ import annotations

from streamfn.connection import AnyRedis


async def redis_now_ms(redis: AnyRedis) -> int:
    """Redis's clock now, in epoch milliseconds."""
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000
