"""``GET /invocations/{id}/logs``: what an invocation's attempts logged."""

from __future__ import annotations

from aiohttp import web

from streamfn import invocation_logs, partitions
from streamfn.gateway import params, redact
from streamfn.gateway.invocations import not_found
from streamfn.gateway.log_models import LogsQuery
from streamfn.gateway.models import InvocationPath
from streamfn.gateway.responses import json_response
from streamfn.gateway.state import CLIENT, SETTINGS
from streamfn.names import queue_of


async def get_logs(request: web.Request) -> web.Response:
    """The attempts' lines (``?attempt=`` for one); 404 when neither record nor logs exist."""
    invocation_id = params.path(request, InvocationPath).id
    query = params.query(request, LogsQuery, request.app[SETTINGS])
    queue = queue_of(invocation_id)
    if queue is None:  # the path pattern already refused it; kept for the type checker
        raise not_found(invocation_id)
    client = request.app[CLIENT]
    known, fields = await invocation_logs.read(client.redis, client.keys, queue, invocation_id)
    if not known:
        raise not_found(invocation_id)
    lines = invocation_logs.lines_of(fields, query.attempt)
    shown = redact.log_lines(request, partitions.function_of_queue(queue), lines)
    return json_response({"id": invocation_id, "lines": shown})
