"""``GET /invocations/{id}`` (optionally long-polling) and ``DELETE /invocations/{id}``."""

from __future__ import annotations

from aiohttp import web

from streamfn.errors import ErrorCode
from streamfn.gateway import params, redact
from streamfn.gateway.envelope import ApiError
from streamfn.gateway.models import Cancelled, Cancelling, InvocationPath, NoQuery, WaitQuery
from streamfn.gateway.responses import json_response, model_response
from streamfn.gateway.state import CLIENT, SETTINGS
from streamfn.scripts import Reply


def not_found(invocation_id: str) -> ApiError:
    """404 for an id that is well formed but has no record."""
    return ApiError(
        ErrorCode.NOT_FOUND,
        f"no invocation {invocation_id!r}: it never existed or its record expired "
        "(STREAMFN_RESULT_TTL)",
    )


async def get_invocation(request: web.Request) -> web.Response:
    """The invocation; with ``?wait=S``, answers once it is final or after S seconds."""
    invocation_id = params.path(request, InvocationPath).id
    wait = params.query(request, WaitQuery, request.app[SETTINGS]).wait
    client = request.app[CLIENT]
    if wait is not None:
        invocation = await client.wait(invocation_id, wait)
    else:
        invocation = await client.get(invocation_id)
    if invocation is None:
        raise not_found(invocation_id)
    return json_response(redact.invocation(request, invocation.to_json()))


async def cancel_invocation(request: web.Request) -> web.Response:
    """Cancel an invocation: 200 ``cancelled`` if it had not started, 202 ``cancelling`` if it
    is running (its runner stops it and records ``cancelled``), 409 once it finished."""
    invocation_id = params.path(request, InvocationPath).id
    params.query(request, NoQuery, request.app[SETTINGS])
    accepted, status = await request.app[CLIENT].stop(invocation_id)
    if accepted and status == Reply.CANCELLING:
        return model_response(
            Cancelling(id=invocation_id, status="cancelling"),
            202,
            {"Location": f"/invocations/{invocation_id}"},
        )
    if accepted:
        return model_response(Cancelled(id=invocation_id, status="cancelled"))
    if status == Reply.NOT_FOUND:
        raise not_found(invocation_id)
    raise ApiError(
        ErrorCode.CONFLICT,
        f"invocation {invocation_id!r} is {status}; only invocations that have not finished "
        "can be cancelled",
        status=status,
    )
