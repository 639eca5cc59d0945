"""``GET /functions``: deployed and removed functions with what their queues hold, and files
that failed to load; ``DELETE /functions/{fn}``: an operator removing a deployed function."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from streamfn.errors import ErrorCode
from streamfn.gateway import params
from streamfn.gateway.envelope import ApiError
from streamfn.gateway.models import FunctionPath, NoQuery
from streamfn.gateway.responses import json_response
from streamfn.gateway.state import CATALOG, CLIENT, REDIS, SETTINGS
from streamfn.queue_counts import counts_of
from streamfn.undeploy import NotDeployed, StillLoaded, undeploy


async def list_functions(request: web.Request) -> web.Response:
    """The gateway's cached catalog (at most one refresh interval old), with each function's
    queued, running and scheduled counts read now (one pipelined round trip)."""
    params.query(request, NoQuery, request.app[SETTINGS])
    catalog = request.app[CATALOG]
    if not catalog.healthy:
        raise catalog.unavailable()
    # One catalog: a refresh may replace it while the counts are read.
    functions, removed = list(catalog.functions.values()), list(catalog.removed.values())
    errors, runners = catalog.errors, catalog.runners
    counts = await counts_of(request.app[REDIS], request.app[CLIENT].keys, functions + removed)
    return json_response(
        {
            "functions": [_with(counts, e) for e in functions],
            "removed": [_with(counts, e) for e in removed],
            "errors": errors,
            "runners": runners,
        }
    )


async def remove_function(request: web.Request) -> web.Response:
    """Remove a deployed function that no live runner loads: its invocations are answered 404
    from now on (by other gateways within their next catalog refresh); what its queues hold
    is kept and listed under ``removed`` by ``GET /functions``.  A runner loading it again
    deploys it again."""
    fn = params.path(request, FunctionPath).fn
    params.query(request, NoQuery, request.app[SETTINGS])
    app = request.app
    catalog = app[CATALOG]
    if not catalog.healthy:
        raise catalog.unavailable()
    try:
        entry = await undeploy(app[REDIS], app[CLIENT].keys, fn, catalog.retention_s)
    except StillLoaded as exc:
        raise ApiError(ErrorCode.CONFLICT, str(exc)) from None
    except NotDeployed:
        await catalog.refresh_quietly()
        raise catalog.unknown(fn) from None
    await catalog.refresh_quietly()  # this gateway answers 404 at once
    counts = await counts_of(app[REDIS], app[CLIENT].keys, [entry])
    return json_response(_with(counts, entry))


def _with(counts: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, **counts[entry["name"]].to_json()}
