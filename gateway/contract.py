"""What a route declares besides its handler: parameters, body, answers and errors.

Every part is a msgspec type (``models.py``, ``schedule_models.py``), so ``openapi.py`` can
describe it; handlers parse into the same parameter Structs and answer with the same models.
Descriptions may name settings as ``{field}`` (``scalars.py`` says how).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp.typedefs import Handler
from msgspec import Struct

from streamfn.gateway.models import Challenge, Error, RetryAfter


@dataclass(frozen=True, slots=True)
class Body:
    """A request body: ``model`` is a Struct or any type msgspec can describe."""

    model: Any
    description: str
    required: bool = True


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer: its body and, as a Struct of header fields, its headers."""

    model: Any
    description: str
    headers: type[Struct] | None = None
    media_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class Route:
    """One entry of the route table; ``name`` is also the OpenAPI operationId, the handler's
    docstring its description.  ``errors``: the error statuses it answers besides 503 (every
    route can answer 503)."""

    method: str
    path: str
    handler: Handler
    name: str
    summary: str
    replies: Mapping[int, Reply]
    errors: tuple[int, ...] = ()
    path_params: type[Struct] | None = None
    query: type[Struct] | None = None
    headers: type[Struct] | None = None
    body: Body | None = None


ERRORS: Mapping[int, tuple[str, Reply]] = {
    400: ("BadRequest", Reply(Error, "a parameter, id, name or body is invalid")),
    401: (
        "Unauthorized",
        Reply(Error, "no token, or not a valid one: send Authorization: Bearer <token>", Challenge),
    ),
    403: (
        "Forbidden",
        Reply(
            Error,
            "the token's role is too weak, the function is outside its pattern, or a request "
            "made with the session cookie lacks its X-CSRF-Token",
        ),
    ),
    404: ("NotFound", Reply(Error, "no such function, invocation, schedule or route")),
    409: (
        "Conflict",
        Reply(
            Error,
            "not allowed in the current status, or changed concurrently (a function: a live "
            "runner loads it)",
        ),
    ),
    413: ("TooLarge", Reply(Error, "body over {max_body} bytes (STREAMFN_MAX_BODY)")),
    415: ("UnsupportedEncoding", Reply(Error, "a Content-Encoding other than identity")),
    429: (
        "BacklogFull",
        Reply(
            Error,
            "the function already has STREAMFN_MAX_BACKLOG invocations queued or running "
            "(error.backlog, error.cap); nothing was enqueued: retry after Retry-After",
            RetryAfter,
        ),
    ),
    503: ("Unavailable", Reply(Error, "Redis is unavailable; retry shortly", RetryAfter)),
}
"""The error answers by status, with their component name in the document."""
