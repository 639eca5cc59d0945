"""``GET /functions``: deployed and removed functions with what their queues hold, and files
that failed to load; ``GET /functions/{fn}``: one of them with its policy and orphaned work;
``DELETE /functions/{fn}``: an operator removing a deployed function."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from streamfn.errors import ErrorCode
from streamfn.gateway import params
from streamfn.gateway.envelope import ApiError
from streamfn.gateway.models import FunctionPath, NoQuery
from streamfn.gateway.responses import json_response
from streamfn.gateway.state import CATALOG, CLIENT, REDIS, SETTINGS
from streamfn.orphans import layouts_of, read_orphaned
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


POLICY = ("timeout", "retries", "kind", "partitions", "backoff", "backoff_max", "dead_letter")
POLICY_EXTRA = ("isolate", "memory_mb")


async def get_function(request: web.Request) -> web.Response:
    """One deployed function: its state (as in ``GET /functions``), the live runners loading
    it, its queues' counts and orphaned entries (read now), and its policy.  A removed
    function is 404, like its invocations."""
    fn = params.path(request, FunctionPath).fn
    params.query(request, NoQuery, request.app[SETTINGS])
    app = request.app
    catalog = app[CATALOG]
    if not catalog.healthy:
        raise catalog.unavailable()
    entry, reports = catalog.functions.get(fn), catalog.reports
    if entry is None:
        raise catalog.unknown(fn)
    redis, keys = app[REDIS], app[CLIENT].keys
    counts = (await counts_of(redis, keys, [entry]))[fn]
    runners = sorted(r.runner_id for r in reports if fn in r.functions)
    orphaned = await read_orphaned(redis, keys, layouts_of([entry]), {r.runner_id for r in reports})
    policy = {k: entry[k] for k in (*POLICY, *POLICY_EXTRA) if k in entry}
    policy.setdefault("partitions", 1)
    body: dict[str, Any] = {
        "name": fn,
        "state": entry["state"],
        "runners": runners,
        "paused": entry.get("paused", False),
        **counts.to_json(),
        "orphaned": orphaned[fn],
        "partitions": policy["partitions"],
        "policy": policy,
    }
    for key in ("paused_at", "last_seen_at", "retained_until"):
        if key in entry:
            body[key] = entry[key]
    return json_response(body)


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
