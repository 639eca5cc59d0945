"""The route table, in one place: each route with its parameters, body and answers.

``openapi.py`` generates the document from this table; the handlers parse into the same
parameter Structs.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from streamfn.gateway import (
    backlog,
    dead_letters,
    functions,
    health,
    invocations,
    invoke,
    logs,
    schedules,
    static_files,
)
from streamfn.gateway.contract import Body, Reply, Route
from streamfn.gateway.log_models import InvocationLogs, LogsQuery
from streamfn.gateway.models import (
    Accepted,
    AssetPath,
    Backlog,
    Cancelled,
    Cancelling,
    DeadLetters,
    DeadLettersQuery,
    Discarded,
    FunctionPath,
    Functions,
    Health,
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
from streamfn.gateway.schedule_models import (
    Schedule,
    ScheduleDefinition,
    ScheduleDeleted,
    SchedulePath,
    Schedules,
    SchedulesQuery,
)

_PAYLOAD = Body(Any, "the payload: any JSON value; an empty body is null", required=False)
_DEFINITION = Body(ScheduleDefinition, "the schedule")
_CREATED = Reply(Schedule, "created", Located)
_SCHEDULE = Reply(Schedule, "the schedule")


def _on_schedule(method: str, path: str, handler: Handler, name: str, summary: str) -> Route:
    """A route on ``/schedules/{id}...`` that takes no query and answers the schedule."""
    return Route(
        method,
        path,
        handler,
        name,
        summary,
        {200: _SCHEDULE},
        errors=(400, 404),
        path_params=SchedulePath,
        query=NoQuery,
    )


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
    Route(
        "POST",
        "/schedules",
        schedules.create_schedule,
        "create_schedule",
        "Create a schedule (an upsert when the body has an id)",
        {201: _CREATED, 200: Reply(Schedule, "the id existed: replaced")},
        errors=(400, 404, 409, 413),
        query=NoQuery,
        body=_DEFINITION,
    ),
    Route(
        "GET",
        "/schedules",
        schedules.list_schedules,
        "list_schedules",
        "Every schedule (or those of ?function=), ordered by id",
        {200: Reply(Schedules, "the schedules")},
        errors=(400,),
        query=SchedulesQuery,
    ),
    _on_schedule("GET", "/schedules/{id}", schedules.get_schedule, "get_schedule", "A schedule"),
    Route(
        "PUT",
        "/schedules/{id}",
        schedules.put_schedule,
        "put_schedule",
        "Create or replace a schedule (history kept)",
        {201: _CREATED, 200: Reply(Schedule, "replaced")},
        errors=(400, 404, 409, 413),
        path_params=SchedulePath,
        query=NoQuery,
        body=_DEFINITION,
    ),
    Route(
        "DELETE",
        "/schedules/{id}",
        schedules.delete_schedule,
        "delete_schedule",
        "Delete a schedule (its past fires stay)",
        {200: Reply(ScheduleDeleted, "deleted")},
        errors=(400, 404),
        path_params=SchedulePath,
        query=NoQuery,
    ),
    _on_schedule(
        "POST",
        "/schedules/{id}/pause",
        schedules.pause_schedule,
        "pause_schedule",
        "Stop firing (kept, resumable)",
    ),
    Route(
        "POST",
        "/schedules/{id}/resume",
        schedules.resume_schedule,
        "resume_schedule",
        "Fire again from the next time after now",
        {200: Reply(Schedule, "resumed")},
        errors=(400, 404, 409),
        path_params=SchedulePath,
        query=NoQuery,
    ),
    Route(
        "GET",
        "/healthz",
        health.healthz,
        "healthz",
        "200 when Redis answers",
        {200: Reply(Health, "healthy")},
    ),
    Route(
        "GET",
        "/metrics",
        health.metrics,
        "metrics",
        "Prometheus metrics",
        {200: Reply(str, "text exposition", media_type="text/plain")},
    ),
    Route(
        "GET",
        "/openapi.json",
        health.openapi_json,
        "openapi",
        "This document",
        {200: Reply(dict[str, Any], "OpenAPI 3.1")},
    ),
    Route(
        "GET",
        "/ui",
        static_files.ui_page,
        "ui",
        "The dashboard",
        {200: Reply(str, "the page", media_type="text/html")},
        query=NoQuery,
    ),
    Route(
        "GET",
        "/docs",
        static_files.docs_page,
        "docs",
        "This document, rendered as a page",
        {200: Reply(str, "the page", media_type="text/html")},
        query=NoQuery,
    ),
    Route(
        "GET",
        "/static/{name}",
        static_files.static_asset,
        "static_asset",
        "An asset of the gateway's pages",
        {200: Reply(str, "the asset (script, style or image)", media_type="text/plain")},
        errors=(400, 404),
        path_params=AssetPath,
        query=NoQuery,
    ),
)


def setup_routes(app: web.Application) -> None:
    """Register every route of :data:`ROUTES` on ``app``."""
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
