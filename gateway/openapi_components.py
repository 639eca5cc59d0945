"""Reusable parts of the OpenAPI document: schemas, parameters and error responses."""

from __future__ import annotations

from typing import Any

from streamfn.errors import ErrorCode
from streamfn.gateway.scalars import MAX_DELAY_S
from streamfn.invocations import STATUSES
from streamfn.names import FUNCTION_RE, INVOCATION_ID_RE
from streamfn.settings import Settings

Spec = dict[str, Any]


def ref(kind: str, name: str) -> Spec:
    return {"$ref": f"#/components/{kind}/{name}"}


def json_body(schema: Spec, description: str) -> Spec:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(*statuses: int) -> dict[str, Spec]:
    names = {
        400: "BadRequest",
        404: "NotFound",
        409: "Conflict",
        413: "TooLarge",
        415: "UnsupportedEncoding",
        429: "BacklogFull",
    }
    out = {str(s): ref("responses", names[s]) for s in statuses}
    out["503"] = ref("responses", "Unavailable")
    return out


def schemas() -> dict[str, Spec]:
    status = {"type": "string", "enum": [*STATUSES, "expired"]}
    ms = {"type": "integer", "description": "epoch milliseconds, Redis clock"}
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "enum": [c.code for c in ErrorCode]},
                        "message": {"type": "string"},
                        "status": {**status, "description": "current status (409 only)"},
                        "backlog": {"type": "integer", "description": "429 only"},
                        "cap": {"type": "integer", "description": "429 only"},
                    },
                }
            },
        },
        "Accepted": {
            "type": "object",
            "required": ["id", "status"],
            "properties": {"id": {"type": "string"}, "status": status, "due_at": ms},
        },
        "Invocation": {
            "type": "object",
            "required": ["id", "function", "status", "attempt"],
            "properties": {
                "id": {"type": "string"},
                "function": {"type": "string"},
                "status": status,
                "attempt": {"type": "integer", "minimum": 1},
                "deliveries": {"type": "integer"},
                "created_at": {"type": ["integer", "null"]},
                "due_at": ms,
                "queued_at": ms,
                "finished_at": ms,
                "duration_ms": {"type": "integer"},
                "result": {"description": "the handler's return value (succeeded only)"},
                "error": {"description": "the last failure: {type, message, ...}"},
            },
            "additionalProperties": True,
        },
        "Cancelled": {
            "type": "object",
            "required": ["id", "status"],
            "properties": {"id": {"type": "string"}, "status": {"const": "cancelled"}},
        },
        "Cancelling": {
            "type": "object",
            "required": ["id", "status"],
            "properties": {"id": {"type": "string"}, "status": {"const": "cancelling"}},
        },
        "Functions": {
            "type": "object",
            "required": ["functions", "errors", "runners"],
            "properties": {
                "functions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "runners"],
                        "properties": {
                            "name": {"type": "string"},
                            "timeout": {"type": "number"},
                            "retries": {"type": "integer"},
                            "kind": {"type": "string"},
                            "runners": {"type": "integer"},
                        },
                    },
                },
                "errors": {"type": "object", "additionalProperties": {"type": "string"}},
                "runners": {"type": "integer", "minimum": 0},
            },
        },
        "DeadLetters": {
            "type": "object",
            "required": ["function", "dead_letters"],
            "properties": {
                "function": {"type": "string"},
                "dead_letters": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["entry", "id", "attempts", "dead_at"],
                        "properties": {
                            "entry": {"type": "string"},
                            "id": {"type": "string"},
                            "payload": {},
                            "error": {},
                            "attempts": {"type": "integer"},
                            "dead_at": {"type": "integer"},
                        },
                    },
                },
            },
        },
    }


def parameters(settings: Settings) -> dict[str, Spec]:
    return {
        "FunctionName": {
            "name": "fn",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": f"^{FUNCTION_RE.pattern}$"},
        },
        "InvocationId": {
            "name": "id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": f"^{INVOCATION_ID_RE.pattern}$"},
        },
        "Wait": {
            "name": "wait",
            "in": "query",
            "description": "seconds to wait for a final status (long poll)",
            "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": settings.max_wait},
        },
        "Delay": {
            "name": "delay",
            "in": "query",
            "description": "seconds before the invocation is queued (not with at)",
            "schema": {"type": "number", "minimum": 0, "maximum": MAX_DELAY_S},
        },
        "At": {
            "name": "at",
            "in": "query",
            "description": "RFC 3339 time with offset or Z to queue at (not with delay)",
            "schema": {"type": "string", "format": "date-time"},
        },
        "IdempotencyKey": {
            "name": "Idempotency-Key",
            "in": "header",
            "description": f"repeats within {settings.idempotency_ttl:g} s return the first",
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
        },
    }


def responses(settings: Settings) -> dict[str, Spec]:
    error = ref("schemas", "Error")
    return {
        "BadRequest": json_body(error, "a parameter, id, name or body is invalid"),
        "NotFound": json_body(error, "no such function, invocation, schedule or route"),
        "Conflict": json_body(error, "not allowed in the current status, or changed concurrently"),
        "TooLarge": json_body(error, f"body over {settings.max_body} bytes"),
        "UnsupportedEncoding": json_body(error, "a Content-Encoding other than identity"),
        "BacklogFull": {
            **json_body(
                error,
                "the function already has STREAMFN_MAX_BACKLOG invocations queued or running "
                "(error.backlog, error.cap); nothing was enqueued: retry after Retry-After",
            ),
            "headers": {
                "Retry-After": {"description": "seconds", "schema": {"type": "integer"}},
            },
        },
        "Unavailable": json_body(error, "Redis is unavailable; retry shortly"),
    }
