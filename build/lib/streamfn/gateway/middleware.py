"""The gateway's one middleware: errors become the JSON envelope, then every response is counted.

One layer rather than an error middleware inside a metrics middleware: it runs on every
request, and each aiohttp middleware layer costs a coroutine and a wrapper call.  The order is
what the two layers had: the error is mapped first (:func:`gateway.envelope.response_for`), so
the request counter sees the status the client got; a client that went away counts as 499.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from streamfn.gateway.envelope import response_for
from streamfn.gateway.metrics import Metrics

CLIENT_CLOSED = 499  # nginx's code for "the client closed the connection first"


def middleware(metrics: Metrics) -> Middleware:
    @web.middleware
    async def answer_and_count(request: web.Request, handler: Handler) -> web.StreamResponse:
        status = 500
        try:
            try:
                response = await handler(request)
            except Exception as exc:
                response = response_for(request, exc)
            status = response.status
            return response
        except asyncio.CancelledError:
            status = CLIENT_CLOSED
            raise
        finally:
            resource = request.match_info.route.resource
            route = "unmatched" if resource is None else resource.canonical
            metrics.request(route, request.method, status)

    return answer_and_count
