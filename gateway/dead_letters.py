"""``GET /dead-letters?function=<fn>``, ``POST /dead-letters/{id}/replay`` and
``DELETE /dead-letters/{id}``."""

from __future__ import annotations

from aiohttp import web

from streamfn.errors import ErrorCode
from streamfn.gateway import params
from streamfn.gateway.envelope import ApiError
from streamfn.gateway.invocations import not_found
from streamfn.gateway.models import (
    DeadLettersQuery,
    Discarded,
    InvocationPath,
    NoQuery,
    Requeued,
)
from streamfn.gateway.responses import json_response, location_headers, model_response
from streamfn.gateway.state import CLIENT, SETTINGS
from streamfn.scripts import Reply


async def list_dead_letters(request: web.Request) -> web.Response:
    """The newest dead letters of one function, newest first."""
    query = params.query(request, DeadLettersQuery, request.app[SETTINGS])
    letters = await request.app[CLIENT].dead_letters(query.function, query.count)
    return json_response(
        {"function": query.function, "dead_letters": [letter.to_json() for letter in letters]}
    )


async def replay_dead_letter(request: web.Request) -> web.Response:
    """Queue a dead invocation again with a fresh attempt budget."""
    invocation_id = params.path(request, InvocationPath).id
    params.query(request, NoQuery, request.app[SETTINGS])
    replayed, detail = await request.app[CLIENT].replay(invocation_id)
    if replayed:
        body = Requeued(id=invocation_id, status="queued")
        return model_response(body, 202, location_headers(invocation_id))
    if detail == Reply.NOT_FOUND:
        raise not_found(invocation_id)
    raise ApiError(
        ErrorCode.CONFLICT,
        f"invocation {invocation_id!r} is {detail}, not dead; only dead invocations replay",
        status=detail,
    )


async def discard_dead_letter(request: web.Request) -> web.Response:
    """Delete a dead invocation for good: its dead letter and its record (it never runs)."""
    invocation_id = params.path(request, InvocationPath).id
    params.query(request, NoQuery, request.app[SETTINGS])
    discarded, detail = await request.app[CLIENT].discard(invocation_id)
    if discarded:
        return model_response(Discarded(id=invocation_id, status="discarded"))
    if detail == Reply.NOT_FOUND:
        raise not_found(invocation_id)
    raise ApiError(
        ErrorCode.CONFLICT,
        f"invocation {invocation_id!r} is {detail}, not dead; only dead invocations are "
        "discarded (cancel one that has not finished: DELETE /invocations/{id})",
        status=detail,
    )
