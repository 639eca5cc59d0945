"""A tiny aiohttp server for ``GET /metrics`` (Prometheus text format) and the health probes,
``GET /healthz`` (liveness) and ``GET /readyz`` (readiness): :mod:`streamfn.runner.health`
says what each proves.  Both answer JSON, 200 or 503.

aiohttp is imported only when the server starts: it is a third of the runner's import time,
and a runner with metrics off (or one that must start fast to take over work) never needs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

if TYPE_CHECKING:
    from aiohttp import web

    from streamfn.runner.health import Probes, Verdict

log = logging.getLogger("streamfn.runner.metrics")

METRICS_PATH = "/metrics"
LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"


class MetricsServer:
    """Serves one registry and the probes on ``host:port``; port 0 means no server at all."""

    def __init__(
        self, registry: CollectorRegistry, host: str, port: int, probes: Probes | None = None
    ) -> None:
        self.registry = registry
        self.host = host
        self.port = port
        self.probes = probes
        self._runner: web.AppRunner | None = None

    async def _metrics(self, request: web.Request) -> web.Response:
        from aiohttp import web

        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    @staticmethod
    def _verdict(judge: Callable[[], Verdict]) -> web.Response:
        from aiohttp import web

        verdict = judge()
        return web.Response(
            body=orjson.dumps(verdict.to_json()),
            status=200 if verdict.ok else 503,
            content_type="application/json",
        )

    async def _healthz(self, request: web.Request) -> web.Response:
        assert self.probes is not None
        return self._verdict(self.probes.alive)

    async def _readyz(self, request: web.Request) -> web.Response:
        assert self.probes is not None
        return self._verdict(self.probes.ready)

    async def start(self) -> None:
        if self.port == 0:
            return
        from aiohttp import web

        app = web.Application()
        app.router.add_get(METRICS_PATH, self._metrics)
        if self.probes is not None:
            app.router.add_get(LIVENESS_PATH, self._healthz)
            app.router.add_get(READINESS_PATH, self._readyz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        log.info("metrics on http://%s:%d/metrics", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
