"""An operator removing a deployed function: ``DELETE /functions/{fn}``, ``streamfn functions rm``.

Meant for a function whose runners are gone and will not come back with it (a new image
without its file, a pool scaled away): removed, it answers ``404`` at once instead of queueing
work until ``STREAMFN_DEPLOYED_RETENTION`` runs out.  Refused while a live runner loads it
(that runner would deploy it again on its next report): remove the file there instead.
What its queues hold is kept, and reported (``GET /functions``, under ``removed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from streamfn import deployed
from streamfn.connection import AnyRedis
from streamfn.deployed import OPERATOR, Removal
from streamfn.keys import Keys
from streamfn.redis_time import redis_now_ms
from streamfn.registry import read_catalog


class StillLoaded(Exception):
    """A live runner loads the function; ``runners`` are their ids."""

    def __init__(self, function: str, runners: Sequence[str]) -> None:
        self.function = function
        self.runners = list(runners)
        super().__init__(
            f"function {function!r} is loaded by {len(runners)} live runner(s) "
            f"({', '.join(runners)}): remove {function}.py from their functions directory "
            "(STREAMFN_FUNCTIONS_DIR) instead; it is removed once no live runner loads it"
        )


class NotDeployed(LookupError):
    """No such deployed function: never deployed, or removed already."""

    def __init__(self, function: str, entry: dict[str, Any] | None) -> None:
        self.function = function
        self.entry = entry
        why = "was removed already" if entry is not None else "was never deployed"
        super().__init__(f"function {function!r} {why}; see GET /functions")


async def undeploy(
    redis: AnyRedis, keys: Keys, function: str, retention_s: float
) -> dict[str, Any]:
    """Remove ``function``; returns its catalog entry as now removed.

    Raises :class:`StillLoaded` or :class:`NotDeployed`.
    """
    catalog = await read_catalog(redis, keys, retention_s)
    entry = catalog.functions.get(function)
    if entry is None:
        raise NotDeployed(function, catalog.removed.get(function))
    if entry["state"] == deployed.LIVE:
        raise StillLoaded(
            function, [r.runner_id for r in catalog.runners if function in r.functions]
        )
    at = await redis_now_ms(redis)
    await deployed.record_removed(redis, keys, {function: Removal(at, OPERATOR)})
    removed = {k: v for k, v in entry.items() if k != "retained_until"}
    return {**removed, "state": deployed.REMOVED, "reason": OPERATOR, "removed_at": at}
