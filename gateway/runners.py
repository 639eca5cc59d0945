"""``GET /runners``: the live runners (id, host, pid, version, start, last heartbeat, slots,
in flight, functions, oldest lease) and the functions holding orphaned work."""

from __future__ import annotations

from aiohttp import web

from streamfn.gateway import params
from streamfn.gateway.models import NoQuery
from streamfn.gateway.responses import json_response
from streamfn.gateway.state import CATALOG, CLIENT, REDIS, SETTINGS
from streamfn.runners_view import read_view


async def list_runners(request: web.Request) -> web.Response:
    """The runners of the gateway's cached catalog (at most one refresh interval old), each as
    of its last heartbeat, with ages by Redis TIME; orphaned work is read now (one XPENDING
    summary per stream holding entries)."""
    params.query(request, NoQuery, request.app[SETTINGS])
    catalog = request.app[CATALOG]
    if not catalog.healthy:
        raise catalog.unavailable()
    entries = [*catalog.functions.values(), *catalog.removed.values()]
    view = await read_view(request.app[REDIS], request.app[CLIENT].keys, catalog.reports, entries)
    return json_response(view)
