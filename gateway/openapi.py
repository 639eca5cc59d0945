"""``GET /openapi.json``: an OpenAPI 3.1 description of every route in ``routes.py``.

Written by hand as a dict; limits that are settings (``?wait=`` maximum, body size) come
from the running gateway's settings.  A test checks each route of the table appears here.
"""

from __future__ import annotations

from aiohttp import web

from streamfn.gateway.openapi_components import (
    Spec,
    errors,
    json_body,
    parameters,
    ref,
    responses,
    schemas,
)
from streamfn.gateway.openapi_schedules import schedule_parameters, schedule_paths, schedule_schemas
from streamfn.gateway.responses import json_response
from streamfn.gateway.state import SETTINGS
from streamfn.names import FUNCTION_RE
from streamfn.settings import Settings

_INVOKE_HEADERS = {
    "Location": {"description": "/invocations/{id}", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "true when an Idempotency-Key repeat returned the first invocation",
        "schema": {"type": "string", "const": "true"},
    },
}


def _paths() -> dict[str, Spec]:
    error = ref("schemas", "Error")
    return {
        "/invoke/{fn}": {
            "post": {
                "operationId": "invoke",
                "summary": "Invoke a function (async by default; ?wait= to wait for it)",
                "parameters": [
                    ref("parameters", n)
                    for n in ("FunctionName", "Wait", "Delay", "At", "IdempotencyKey")
                ],
                "requestBody": {
                    "required": False,
                    "description": "the payload: any JSON value; an empty body is null",
                    "content": {"application/json": {"schema": {}}},
                },
                "responses": {
                    "200": {
                        **json_body(ref("schemas", "Invocation"), "finished within ?wait="),
                        "headers": _INVOKE_HEADERS,
                    },
                    "202": {
                        **json_body(ref("schemas", "Accepted"), "accepted; see Location"),
                        "headers": _INVOKE_HEADERS,
                    },
                    **errors(400, 404, 413, 415, 429),
                },
            }
        },
        "/invocations/{id}": {
            "get": {
                "operationId": "get_invocation",
                "summary": "An invocation's status and result (?wait= long-polls)",
                "parameters": [ref("parameters", "InvocationId"), ref("parameters", "Wait")],
                "responses": {
                    "200": json_body(ref("schemas", "Invocation"), "the invocation"),
                    **errors(400, 404),
                },
            },
            "delete": {
                "operationId": "cancel_invocation",
                "summary": "Cancel a scheduled or queued invocation",
                "parameters": [ref("parameters", "InvocationId")],
                "responses": {
                    "200": json_body(ref("schemas", "Cancelled"), "cancelled"),
                    "202": json_body(ref("schemas", "Cancelling"), "running: its runner stops it"),
                    **errors(400, 404, 409),
                },
            },
        },
        "/functions": {
            "get": {
                "operationId": "list_functions",
                "summary": "Functions loaded by live runners, and load errors",
                "responses": {
                    "200": json_body(ref("schemas", "Functions"), "the catalog"),
                    **errors(),
                },
            }
        },
        "/dead-letters": {
            "get": {
                "operationId": "list_dead_letters",
                "summary": "The newest dead letters of one function",
                "parameters": [
                    {
                        "name": "function",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "pattern": f"^{FUNCTION_RE.pattern}$"},
                    },
                    {
                        "name": "count",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    },
                ],
                "responses": {
                    "200": json_body(ref("schemas", "DeadLetters"), "newest first"),
                    **errors(400),
                },
            }
        },
        "/dead-letters/{id}/replay": {
            "post": {
                "operationId": "replay",
                "summary": "Queue a dead invocation again",
                "parameters": [ref("parameters", "InvocationId")],
                "responses": {
                    "202": json_body(ref("schemas", "Accepted"), "queued again"),
                    **errors(400, 404, 409),
                },
            }
        },
        **schedule_paths(),
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "200 when Redis answers",
                "responses": {
                    "200": json_body(
                        {"type": "object", "properties": {"status": {"const": "ok"}}}, "healthy"
                    ),
                    "503": json_body(error, "Redis unavailable"),
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics",
                "responses": {
                    "200": {
                        "description": "text exposition",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": json_body({"type": "object"}, "OpenAPI 3.1")},
            }
        },
    }


def build_spec(settings: Settings) -> Spec:
    """The OpenAPI document for a gateway running with ``settings``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "streamfn gateway",
            "version": "0.1.0",
            "description": "Invoke functions over Redis Streams.  Every error is "
            '{"error": {"code", "message"}}.',
        },
        "paths": _paths(),
        "components": {
            "schemas": {**schemas(), **schedule_schemas()},
            "parameters": {**parameters(settings), **schedule_parameters()},
            "responses": responses(settings),
        },
    }


async def openapi_json(request: web.Request) -> web.Response:
    """The OpenAPI document of this gateway."""
    return json_response(build_spec(request.app[SETTINGS]))
