"""JSON responses encoded with orjson (faster than aiohttp's ``json_response``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """``body`` serialised with orjson, ``Content-Type: application/json``."""
    return web.Response(
        body=orjson.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def accepted(
    invocation_id: str, status: str, *, due_ms: int | None = None, replayed: bool = False
) -> web.Response:
    """202 for an invocation that is not finished: where to look it up, and its state."""
    body: dict[str, Any] = {"id": invocation_id, "status": status}
    if due_ms is not None:
        body["due_at"] = due_ms
    return json_response(body, 202, location_headers(invocation_id, replayed=replayed))


def location_headers(invocation_id: str, *, replayed: bool = False) -> dict[str, str]:
    """``Location`` of the invocation, and ``Idempotent-Replayed`` for a repeat."""
    headers = {"Location": f"/invocations/{invocation_id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return headers
