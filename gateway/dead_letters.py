"""``GET /dead-letters?function=<fn>`` and ``POST /dead-letters/{id}/replay``."""

from __future__ import annotations

from aiohttp import web

from streamfn.errors import ErrorCode
from streamfn.gateway import params
from streamfn.gateway.errors import ApiError
from streamfn.gateway.invocations import not_found
from streamfn.gateway.responses import json_response, location_headers
from streamfn.gateway.state import CLIENT
from streamfn.scripts import Reply

MAX_COUNT = 1000
DEFAULT_COUNT = 100


async def list_dead_letters(request: web.Request) -> web.Response:
    """The newest dead letters of one function, newest first."""
    query = params.query(request, ("function", "count"))
    if "function" not in query:
        raise ApiError(
            ErrorCode.INVALID_PARAMETER,
            "the function query parameter is required, e.g. /dead-letters?function=echo",
        )
    function = params.function_name(query["function"])
    count = params.count(query.get("count"), default=DEFAULT_COUNT, maximum=MAX_COUNT)
    letters = await request.app[CLIENT].dead_letters(function, count)
    return json_response(
        {"function": function, "dead_letters": [letter.to_json() for letter in letters]}
    )


async def replay_dead_letter(request: web.Request) -> web.Response:
    """Queue a dead invocation again with a fresh attempt budget."""
    invocation_id = params.invocation_id(request.match_info["id"])
    params.query(request, ())
    replayed, detail = await request.app[CLIENT].replay(invocation_id)
    if replayed:
        body = {"id": invocation_id, "status": "queued"}
        return json_response(body, 202, location_headers(invocation_id))
    if detail == Reply.NOT_FOUND:
        raise not_found(invocation_id)
    raise ApiError(
        ErrorCode.CONFLICT,
        f"invocation {invocation_id!r} is {detail}, not dead; only dead invocations replay",
        status=detail,
    )
