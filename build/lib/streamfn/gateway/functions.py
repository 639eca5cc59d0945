"""``GET /functions``: what live runners have loaded, and files that failed to load."""

from __future__ import annotations

from aiohttp import web

from streamfn.gateway import params
from streamfn.gateway.models import NoQuery
from streamfn.gateway.responses import json_response
from streamfn.gateway.state import CATALOG, SETTINGS


async def list_functions(request: web.Request) -> web.Response:
    """The gateway's cached catalog (at most one refresh interval old)."""
    params.query(request, NoQuery, request.app[SETTINGS])
    catalog = request.app[CATALOG]
    if not catalog.healthy:
        raise catalog.unavailable()
    return json_response(
        {
            "functions": list(catalog.functions.values()),
            "errors": catalog.errors,
            "runners": catalog.runners,
        }
    )
