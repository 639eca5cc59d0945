"""The route table, in one place.  ``openapi.py`` describes each of these routes."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from streamfn.gateway import (
    dead_letters,
    functions,
    health,
    invocations,
    invoke,
    openapi,
    schedules,
)


@dataclass(frozen=True, slots=True)
class Route:
    """One entry of the route table; ``name`` is also the OpenAPI operationId."""

    method: str
    path: str
    handler: Handler
    name: str


ROUTES: tuple[Route, ...] = (
    Route("POST", "/invoke/{fn}", invoke.invoke, "invoke"),
    Route("GET", "/invocations/{id}", invocations.get_invocation, "get_invocation"),
    Route("DELETE", "/invocations/{id}", invocations.cancel_invocation, "cancel_invocation"),
    Route("GET", "/functions", functions.list_functions, "list_functions"),
    Route("GET", "/dead-letters", dead_letters.list_dead_letters, "list_dead_letters"),
    Route("POST", "/dead-letters/{id}/replay", dead_letters.replay_dead_letter, "replay"),
    Route("POST", "/schedules", schedules.create_schedule, "create_schedule"),
    Route("GET", "/schedules", schedules.list_schedules, "list_schedules"),
    Route("GET", "/schedules/{id}", schedules.get_schedule, "get_schedule"),
    Route("PUT", "/schedules/{id}", schedules.put_schedule, "put_schedule"),
    Route("DELETE", "/schedules/{id}", schedules.delete_schedule, "delete_schedule"),
    Route("POST", "/schedules/{id}/pause", schedules.pause_schedule, "pause_schedule"),
    Route("POST", "/schedules/{id}/resume", schedules.resume_schedule, "resume_schedule"),
    Route("GET", "/healthz", health.healthz, "healthz"),
    Route("GET", "/metrics", health.metrics, "metrics"),
    Route("GET", "/openapi.json", openapi.openapi_json, "openapi"),
)


def setup_routes(app: web.Application) -> None:
    """Register every route of :data:`ROUTES` on ``app``."""
    for route in ROUTES:
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
