"""The OpenAPI description of the ``/schedules`` routes: paths, schemas and the id parameter."""

from __future__ import annotations

from streamfn.gateway.openapi_components import Spec, errors, json_body, ref
from streamfn.names import FUNCTION_RE
from streamfn.schedules.definition import (
    DEFAULT_CATCH_UP_MAX,
    DEFAULT_MISFIRE,
    MAX_CATCH_UP,
    MISFIRE_POLICIES,
    SCHEDULE_ID_RE,
)

_MS = {"type": "integer", "description": "epoch milliseconds, Redis clock"}
_TIME = {
    "description": "epoch ms, or ISO 8601 (without an offset: read in the schedule's timezone)",
    "oneOf": [{"type": "integer", "minimum": 0}, {"type": "string"}],
}
_DEFINITION: dict[str, Spec] = {
    "id": {
        "type": "string",
        "pattern": f"^{SCHEDULE_ID_RE.pattern}$",
        "description": "optional: makes POST an upsert; 'file.' is reserved for file schedules",
    },
    "function": {"type": "string", "pattern": f"^{FUNCTION_RE.pattern}$"},
    "cron": {
        "type": "string",
        "description": "5 fields, or 6 with seconds first ('*/5 * * * * *'), or @hourly etc.",
    },
    "every": {"type": "string", "description": "an interval such as 30s, 5m, 1h30m (>= 1s)"},
    "payload": {"description": "any JSON value, passed to every fire"},
    "timezone": {"type": "string", "default": "UTC", "description": "IANA zone"},
    "misfire": {"type": "string", "enum": list(MISFIRE_POLICIES), "default": DEFAULT_MISFIRE},
    "catch_up_max": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_CATCH_UP,
        "default": DEFAULT_CATCH_UP_MAX,
        "description": "with misfire catch_up: most missed fires to make up",
    },
    "start_at": _TIME,
    "end_at": _TIME,
    "limit": {"type": "integer", "minimum": 1, "description": "stop after this many fires"},
}


def schedule_schemas() -> dict[str, Spec]:
    """``ScheduleDefinition`` (request), ``Schedule`` and ``Schedules`` (responses)."""
    return {
        "ScheduleDefinition": {
            "type": "object",
            "required": ["function"],
            "properties": _DEFINITION,
            "oneOf": [{"required": ["cron"]}, {"required": ["every"]}],
            "additionalProperties": False,
        },
        "Schedule": {
            "type": "object",
            "required": ["id", "function", "timezone", "misfire", "state", "fire_count"],
            "properties": {
                **_DEFINITION,
                "state": {"type": "string", "enum": ["active", "paused", "finished"]},
                "paused": {"type": "boolean"},
                "fire_count": {"type": "integer", "minimum": 0},
                "last_fire_at": {**_MS, "type": ["integer", "null"]},
                "last_invocation": {"type": ["string", "null"]},
                "next_fire_at": {**_MS, "type": ["integer", "null"]},
                "next_fire_local": {
                    "type": ["string", "null"],
                    "description": "next_fire_at as ISO 8601 in the schedule's timezone",
                },
                "created_at": _MS,
                "updated_at": _MS,
                "source": {"type": "string", "description": "api, or file:<function>.py"},
            },
        },
        "Schedules": {
            "type": "object",
            "required": ["schedules"],
            "properties": {"schedules": {"type": "array", "items": ref("schemas", "Schedule")}},
        },
    }


def schedule_parameters() -> dict[str, Spec]:
    return {
        "ScheduleId": {
            "name": "id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": f"^{SCHEDULE_ID_RE.pattern}$"},
        }
    }


def _one(operation_id: str, summary: str, description: str, *statuses: int) -> Spec:
    """An operation on ``/schedules/{id}`` answering the schedule."""
    return {
        "operationId": operation_id,
        "summary": summary,
        "parameters": [ref("parameters", "ScheduleId")],
        "responses": {
            "200": json_body(ref("schemas", "Schedule"), description),
            **errors(400, 404, *statuses),
        },
    }


def schedule_paths() -> dict[str, Spec]:
    """The ``/schedules`` path items."""
    definition = {
        "required": True,
        "content": {"application/json": {"schema": ref("schemas", "ScheduleDefinition")}},
    }
    created = json_body(ref("schemas", "Schedule"), "created; Location: /schedules/{id}")
    put = _one("put_schedule", "Create or replace a schedule (history kept)", "replaced", 409)
    put["requestBody"] = definition
    put["responses"]["201"] = created
    return {
        "/schedules": {
            "post": {
                "operationId": "create_schedule",
                "summary": "Create a schedule (an upsert when the body has an id)",
                "requestBody": definition,
                "responses": {
                    "201": created,
                    "200": json_body(ref("schemas", "Schedule"), "the id existed: replaced"),
                    **errors(400, 404, 409, 413),
                },
            },
            "get": {
                "operationId": "list_schedules",
                "summary": "Every schedule (or those of ?function=), ordered by id",
                "parameters": [
                    {
                        "name": "function",
                        "in": "query",
                        "schema": {"type": "string", "pattern": f"^{FUNCTION_RE.pattern}$"},
                        "description": "only this function's schedules",
                    }
                ],
                "responses": {
                    "200": json_body(ref("schemas", "Schedules"), "the schedules"),
                    **errors(400),
                },
            },
        },
        "/schedules/{id}": {
            "get": _one("get_schedule", "A schedule with its last and next fire", "the schedule"),
            "put": put,
            "delete": {
                "operationId": "delete_schedule",
                "summary": "Delete a schedule (its past fires stay)",
                "parameters": [ref("parameters", "ScheduleId")],
                "responses": {
                    "200": json_body(
                        {
                            "type": "object",
                            "required": ["id", "status"],
                            "properties": {
                                "id": {"type": "string"},
                                "status": {"const": "deleted"},
                            },
                        },
                        "deleted",
                    ),
                    **errors(400, 404),
                },
            },
        },
        "/schedules/{id}/pause": {
            "post": _one("pause_schedule", "Stop firing (kept, resumable)", "paused")
        },
        "/schedules/{id}/resume": {
            "post": _one(
                "resume_schedule", "Fire again from the next time after now", "resumed", 409
            )
        },
    }
