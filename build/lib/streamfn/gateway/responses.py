"""JSON responses: a Struct of ``models.py`` encoded by msgspec, or a ``streamfn`` dict by orjson.

Both are faster than aiohttp's ``json_response``.  Dicts are the shapes ``streamfn`` builds
(``Invocation.to_json`` and the like), passed through as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
import orjson
from aiohttp import web
from msgspec import UNSET

from streamfn.gateway.models import Accepted

_encode = msgspec.json.Encoder().encode


def json_response(
    body: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """``body`` serialised with orjson, ``Content-Type: application/json``."""
    return web.Response(
        body=orjson.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def model_response(
    body: msgspec.Struct, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A response model serialised with msgspec, ``Content-Type: application/json``."""
    return web.Response(
        body=_encode(body), status=status, headers=headers, content_type="application/json"
    )


def accepted(
    invocation_id: str, status: str, *, due_ms: int | None = None, replayed: bool = False
) -> web.Response:
    """202 for an invocation that is not finished: where to look it up, and its state."""
    body = Accepted(id=invocation_id, status=status, due_at=UNSET if due_ms is None else due_ms)
    return model_response(body, 202, location_headers(invocation_id, replayed=replayed))


def location_headers(invocation_id: str, *, replayed: bool = False) -> dict[str, str]:
    """``Location`` of the invocation, and ``Idempotent-Replayed`` for a repeat."""
    headers = {"Location": f"/invocations/{invocation_id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return headers
