"""The route table: each route with its parameters, body and answers.  The invocation,
function and dead-letter routes are here; the schedule routes (``schedule_routes.py``) and the
gateway's own (``site_routes.py``) join them in :data:`ROUTES`, in that order.

``openapi.py`` generates the document from this table; the handlers parse into the same
parameter Structs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from streamfn.gateway import (
    backlog,
    dead_letters,
    functions,
    invocations,
    invoke,
    listing,
    logs,
    pausing,
    runners,
)
from streamfn.gateway.contract import Body, Reply, Route
from streamfn.gateway.function_models import FunctionDetail, PauseState
from streamfn.gateway.index_models import InvocationList, InvocationsQuery
from streamfn.gateway.log_models import InvocationLogs, LogsQuery
from streamfn.gateway.models import (
    Accepted,
    Backlog,
    Cancelled,
    Cancelling,
    DeadLetters,
    DeadLettersQuery,
    Discarded,
    FunctionPath,
    Functions,
    Invocation,
    InvocationPath,
    InvokeHeaders,
    InvokePath,
    InvokeQuery,
    Located,
    NoQuery,
    RemovedFunction,
    Replayable,
    Requeued,
    WaitQuery,
)
from streamfn.gateway.runner_models import Runners
from streamfn.gateway.schedule_routes import SCHEDULE_ROUTES
from streamfn.gateway.site_routes import SITE_ROUTES

_PAYLOAD = Body(Any, "the payload: any JSON value; an empty body is null", required=False)

ROUTES: tuple[Route, ...] = (
    Route(
        "POST",
        "/invoke/{fn}",
        invoke.invoke,
        "invoke",
        "Invoke a function (async by default; ?wait= to wait for it)",
        {
            200: Reply(Invocation, "finished within ?wait=", Replayable),
            202: Reply(Accepted, "accepted; see Location", Replayable),
        },
        errors=(400, 404, 413, 415, 429),
        path_params=InvokePath,
        query=InvokeQuery,
        headers=InvokeHeaders,
        body=_PAYLOAD,
    ),
    Route(
        "GET",
        "/invocations",
        listing.list_invocations,
        "list_invocations",
        "One function's invocations, newest first, by status, time, schedule, tag or "
        "Idempotency-Key (a page; next_cursor continues)",
        {200: Reply(InvocationList, "a page, newest first")},
        errors=(400,),
        query=InvocationsQuery,
    ),
    Route(
        "GET",
        "/invocations/{id}",
        invocations.get_invocation,
        "get_invocation",
        "An invocation's status and result (?wait= long-polls)",
        {200: Reply(Invocation, "the invocation")},
        errors=(400, 404),
        path_params=InvocationPath,
        query=WaitQuery,
    ),
    Route(
        "GET",
        "/invocations/{id}/logs",
        logs.get_logs,
        "get_invocation_logs",
        "What an invocation's attempts logged (ctx.log; an isolated handler's stdout/stderr)",
        {200: Reply(InvocationLogs, "oldest attempt first")},
        errors=(400, 404),
        path_params=InvocationPath,
        query=LogsQuery,
    ),
    Route(
        "DELETE",
        "/invocations/{id}",
        invocations.cancel_invocation,
        "cancel_invocation",
        "Cancel an invocation that has not finished",
        {
            200: Reply(Cancelled, "cancelled"),
            202: Reply(Cancelling, "running: its runner stops it", Located),
        },
        errors=(400, 404, 409),
        path_params=InvocationPath,
        query=NoQuery,
    ),
    Route(
        "GET",
        "/functions",
        functions.list_functions,
        "list_functions",
        "Deployed and removed functions with their queues' counts, and load errors",
        {200: Reply(Functions, "the catalog")},
        errors=(400,),
        query=NoQuery,
    ),
    Route(
        "GET",
        "/functions/{fn}",
        functions.get_function,
        "get_function",
        "One deployed function: state, queues' counts, orphaned work and policy",
        {200: Reply(FunctionDetail, "the function")},
        errors=(400, 404),
        path_params=FunctionPath,
        query=NoQuery,
    ),
    Route(
        "POST",
        "/functions/{fn}/pause",
        pausing.pause_function,
        "pause_function",
        "Pause a function: invocations are still accepted, runners start none (within 1 s)",
        {200: Reply(PauseState, "paused")},
        errors=(400, 404),
        path_params=FunctionPath,
        query=NoQuery,
    ),
    Route(
        "POST",
        "/functions/{fn}/resume",
        pausing.resume_function,
        "resume_function",
        "Resume a paused function: runners take its work again within a second",
        {200: Reply(PauseState, "not paused")},
        errors=(400, 404),
        path_params=FunctionPath,
        query=NoQuery,
    ),
    Route(
        "DELETE",
        "/functions/{fn}",
        functions.remove_function,
        "remove_function",
        "Remove a deployed function no live runner loads (its queued work is kept)",
        {200: Reply(RemovedFunction, "removed")},
        errors=(400, 404, 409),
        path_params=FunctionPath,
        query=NoQuery,
    ),
    Route(
        "GET",
        "/runners",
        runners.list_runners,
        "list_runners",
        "Live runners as of their last heartbeat, and functions holding orphaned work",
        {200: Reply(Runners, "the runners")},
        errors=(400,),
        query=NoQuery,
    ),
    Route(
        "GET",
        "/backlog",
        backlog.get_backlog,
        "get_backlog",
        "Invocations queued or running over every function: what KEDA scales runners on",
        {200: Reply(Backlog, "the backlog")},
        errors=(400,),
        query=NoQuery,
    ),
    Route(
        "GET",
        "/dead-letters",
        dead_letters.list_dead_letters,
        "list_dead_letters",
        "The newest dead letters of one function",
        {200: Reply(DeadLetters, "newest first")},
        errors=(400,),
        query=DeadLettersQuery,
    ),
    Route(
        "POST",
        "/dead-letters/{id}/replay",
        dead_letters.replay_dead_letter,
        "replay",
        "Queue a dead invocation again",
        {202: Reply(Requeued, "queued again", Located)},
        errors=(400, 404, 409),
        path_params=InvocationPath,
        query=NoQuery,
    ),
    Route(
        "DELETE",
        "/dead-letters/{id}",
        dead_letters.discard_dead_letter,
        "discard",
        "Delete a dead invocation: its dead letter and its record",
        {200: Reply(Discarded, "deleted; GET /invocations/{id} answers 404 from now on")},
        errors=(400, 404, 409),
        path_params=InvocationPath,
        query=NoQuery,
    ),
    *SCHEDULE_ROUTES,
    *SITE_ROUTES,
)


def setup_routes(app: web.Application, handler_for: Callable[[Route], Handler]) -> None:
    """Register every route of :data:`ROUTES` on ``app``, each with ``handler_for(route)``
    (its handler, or the handler behind the token check: ``auth.handler_for``)."""
    for route in ROUTES:
        app.router.add_route(route.method, route.path, handler_for(route), name=route.name)
