"""The schedule routes of the route table (``routes.py`` joins the parts in order)."""

from __future__ import annotations

from aiohttp.typedefs import Handler

from streamfn.gateway import schedules
from streamfn.gateway.contract import Body, Reply, Route
from streamfn.gateway.models import Located, NoQuery
from streamfn.gateway.schedule_models import (
    Schedule,
    ScheduleDefinition,
    ScheduleDeleted,
    SchedulePath,
    Schedules,
    SchedulesQuery,
)

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


SCHEDULE_ROUTES: tuple[Route, ...] = (
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
)
