"""Consumer groups: make sure the ``runners`` group exists on each loaded queue's stream."""

from __future__ import annotations

from collections.abc import Iterable

from redis.exceptions import ResponseError

from streamfn.connection import AnyRedis
from streamfn.keys import GROUP, Keys


async def ensure_groups(redis: AnyRedis, keys: Keys, queues: Iterable[str]) -> None:
    """``XGROUP CREATE <stream> runners 0 MKSTREAM`` for each; only BUSYGROUP is expected.

    Id ``0`` (not ``$``): entries added before the group existed, e.g. after Redis lost the
    group but kept the stream, are still delivered.
    """
    names = list(queues)
    if not names:
        return
    async with redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.xgroup_create(keys.stream(name), GROUP, id="0", mkstream=True)
        results = await pipe.execute(raise_on_error=False)
    for result in results:
        if isinstance(result, ResponseError) and not str(result).startswith("BUSYGROUP"):
            raise result
        if isinstance(result, Exception) and not isinstance(result, ResponseError):
            raise result
