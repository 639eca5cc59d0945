"""The set of invokable functions, cached in memory so the invoke path makes no lookup.

A background loop (:class:`~streamfn.loop.Periodic`) re-reads
:func:`streamfn.registry.read_catalog` every ``interval`` seconds; a function is invokable
while it is deployed (:mod:`streamfn.deployed`): a live runner loads it, or one did within
the retention period and it was not removed since.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import PurePath
from typing import Any

from redis.exceptions import RedisError

from streamfn import deployed
from streamfn.connection import AnyRedis
from streamfn.errors import ErrorCode
from streamfn.gateway.envelope import ApiError
from streamfn.keys import Keys
from streamfn.loop import Periodic
from streamfn.registry import Catalog, RunnerReport, read_catalog
from streamfn.settings import DEFAULTS

log = logging.getLogger("streamfn.gateway.catalog")

OnRefresh = Callable[[Catalog], Awaitable[None]]


class CatalogCache:
    """The latest catalog; ``healthy`` is False while Redis cannot be read."""

    def __init__(
        self,
        redis: AnyRedis,
        keys: Keys,
        *,
        interval: float = 0.5,
        on_refresh: OnRefresh | None = None,
        functions_dir: str = "functions",
        retention_s: float = DEFAULTS.deployed_retention,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self.retention_s = retention_s
        self._on_refresh = on_refresh
        self._functions_dir = functions_dir
        # refresh_quietly logs a failure once per outage, so the loop never sees an error.
        self._refresher = Periodic("gateway-catalog", interval, self.refresh_quietly, logger=log)
        self.healthy = False
        self.known: frozenset[str] = frozenset()
        self.functions: dict[str, dict[str, Any]] = {}
        self.removed: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, str] = {}
        self.runners = 0
        self.reports: list[RunnerReport] = []
        self.paused: dict[str, int] = {}

    async def start(self) -> None:
        """Read once (so the first request sees the catalog), then keep refreshing."""
        await self.refresh_quietly()
        await self._refresher.start()

    async def stop(self) -> None:
        """Stop refreshing; the last catalog stays readable."""
        await self._refresher.stop()

    async def refresh(self) -> None:
        """Read the catalog now; raises what Redis raised."""
        catalog = await read_catalog(self._redis, self._keys, self.retention_s)
        self.functions = catalog.functions
        self.removed = catalog.removed
        self.errors = catalog.errors
        self.runners = len(catalog.runners)
        self.reports = catalog.runners
        self.paused = catalog.paused
        self.known = frozenset(self.functions)
        if not self.healthy:
            log.info("catalog: %d function(s) from %d runner(s)", len(self.known), self.runners)
        self.healthy = True
        if self._on_refresh is not None:
            await self._on_refresh(catalog)

    async def refresh_quietly(self) -> None:
        """:meth:`refresh`, logging a failure instead of raising it (the loop must go on)."""
        try:
            await self.refresh()
        except (RedisError, OSError) as exc:
            if self.healthy:
                log.warning("catalog: cannot read from Redis (%s); keeping the last one", exc)
            self.healthy = False
        except Exception:
            log.exception("catalog: refresh failed")

    def label(self, function: str) -> str:
        """``function`` as a metrics label: known names only, so label values stay bounded."""
        return function if function in self.known else "unknown"

    def unknown(self, function: str) -> ApiError:
        """The error for a function not deployed: 404, or 503 while Redis is unreadable."""
        if not self.healthy:
            return self.unavailable()
        load_error = next(
            (msg for file, msg in self.errors.items() if PurePath(file).stem == function), None
        )
        removed = self.removed.get(function)
        if load_error is not None:
            hint = f"{self._functions_dir}/{function}.py failed to load: {load_error}"
        elif removed is not None:
            hint = self._removed_hint(function, removed)
        elif self.runners == 0:
            hint = f"no runner is live; drop {self._functions_dir}/{function}.py into the "
            hint += "functions directory (STREAMFN_FUNCTIONS_DIR) and start a runner"
        else:
            hint = f"add it by dropping {self._functions_dir}/{function}.py into the runners' "
            hint += "functions directory (STREAMFN_FUNCTIONS_DIR); it is live within a second"
        return ApiError(ErrorCode.UNKNOWN_FUNCTION, f"unknown function {function!r}: {hint}")

    def _removed_hint(self, function: str, entry: dict[str, Any]) -> str:
        file = f"{self._functions_dir}/{function}.py"
        when = deployed.utc(entry["removed_at"])
        if entry["reason"] == deployed.FILE_REMOVED:
            why = f"it was removed at {when}: its file left the functions directory of every "
            why += "runner that had it"
        elif entry["reason"] == deployed.OPERATOR:
            why = f"it was removed by an operator at {when} (DELETE /functions/{function} or "
            why += "streamfn functions rm)"
        else:
            why = f"no runner has loaded it since {deployed.utc(entry['last_seen_at'])}, and "
            why += f"STREAMFN_DEPLOYED_RETENTION ({self.retention_s:g} s) ran out at {when}"
        return (
            f"{why}. Its queued work is kept (GET /functions lists it under removed); a "
            f"runner loading {file} deploys it again and runs that work"
        )

    def unavailable(self) -> ApiError:
        """503: the catalog could not be read lately, so it cannot be trusted."""
        return ApiError(
            ErrorCode.REDIS_UNAVAILABLE,
            "cannot tell which functions exist: Redis is unreachable; retry shortly",
        )
