"""What the gateway says about itself: ``GET /healthz`` (can we reach Redis?), ``GET /metrics``
and ``GET /openapi.json``."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from streamfn.gateway.models import Health
from streamfn.gateway.responses import model_response
from streamfn.gateway.state import DOCUMENT, METRICS, REDIS


async def healthz(request: web.Request) -> web.Response:
    """200 when Redis answers PING; a Redis error becomes 503 in the error middleware."""
    await request.app[REDIS].ping()
    return model_response(Health(status="ok"))


async def metrics(request: web.Request) -> web.Response:
    """The Prometheus text exposition of this gateway's registry, the stream gauges read now."""
    await request.app[METRICS].refresh_streams()
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def openapi_json(request: web.Request) -> web.Response:
    """The OpenAPI document of this gateway, generated once when the app is made."""
    return web.Response(body=request.app[DOCUMENT], content_type="application/json")
