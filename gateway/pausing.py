"""``POST /functions/{fn}/pause`` and ``/resume`` (:mod:`streamfn.pauses`).

A paused function still takes invocations (``202 queued``); runners start none of its work
within a second, and what runs finishes.  Resuming makes them take it again within a second.
"""

from __future__ import annotations

from aiohttp import web

from streamfn import pauses
from streamfn.gateway import params
from streamfn.gateway.function_models import PauseState
from streamfn.gateway.models import FunctionPath, NoQuery
from streamfn.gateway.responses import model_response
from streamfn.gateway.state import CATALOG, CLIENT, REDIS, SETTINGS


async def pause_function(request: web.Request) -> web.Response:
    """Pause a deployed function (pausing a paused one keeps its first time)."""
    fn = params.path(request, FunctionPath).fn
    params.query(request, NoQuery, request.app[SETTINGS])
    catalog = request.app[CATALOG]
    if fn not in catalog.functions:
        await catalog.refresh_quietly()  # deployed a moment ago?
        if fn not in catalog.functions:
            raise catalog.unknown(fn)
    since = await pauses.pause(request.app[REDIS], request.app[CLIENT].keys, fn)
    await catalog.refresh_quietly()  # this gateway shows it at once
    return model_response(PauseState(name=fn, paused=True, paused_at=since))


async def resume_function(request: web.Request) -> web.Response:
    """Resume a paused function (a function that is not paused is left as it is)."""
    fn = params.path(request, FunctionPath).fn
    params.query(request, NoQuery, request.app[SETTINGS])
    catalog = request.app[CATALOG]
    await catalog.refresh_quietly()
    if fn not in catalog.functions and fn not in catalog.paused:
        raise catalog.unknown(fn)  # a removed function that is paused can still be resumed
    await pauses.resume(request.app[REDIS], request.app[CLIENT].keys, fn)
    await catalog.refresh_quietly()
    return model_response(PauseState(name=fn, paused=False))
