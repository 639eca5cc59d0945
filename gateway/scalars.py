"""The values a request carries outside its body, each declared once as a msgspec type.

A declaration holds the JSON Schema of the value (type, bounds, pattern, description) and, in
``Meta.extra``, what JSON Schema cannot say: the error code and message for a bad value, and a
bound that is a setting.  ``params.py`` checks path segments, query strings and headers against
these declarations; ``openapi.py`` describes them.  Descriptions may name settings as
``{field}`` of :class:`~streamfn.settings.Settings`: the document shows the running values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from msgspec import Meta

from streamfn.errors import ErrorCode
from streamfn.names import FUNCTION_RE, INVOCATION_ID_RE
from streamfn.schedules.definition import SCHEDULE_ID_RE

MAX_DELAY_S = 366 * 86400.0
"""Farthest a ``delay`` or ``at`` may reach into the future."""


def _error(code: ErrorCode, message: str) -> dict[str, Any]:
    """``Meta.extra`` of a text value: its code, and a message where ``{value}`` is the value."""
    return {"code": code, "message": message}


FunctionName = Annotated[
    str,
    Meta(
        title="FunctionName",
        pattern=f"^{FUNCTION_RE.pattern}$",
        description="a function: the stem of functions/<name>.py",
        extra={
            **_error(
                ErrorCode.INVALID_FUNCTION_NAME,
                "invalid function name {value}: use 1-64 lower-case letters, digits or '_', "
                "starting with a letter (the stem of functions/<name>.py)",
            ),
            "example": "echo",  # for messages only: in the document, fuzzers would use it
        },
    ),
]
AssetName = Annotated[
    str,
    Meta(
        title="AssetName",
        pattern=r"^[a-z0-9_-]{1,40}\.(js|css|html|svg|png)$",
        description="an asset of the gateway's own pages, such as docs.js",
        extra=_error(
            ErrorCode.INVALID_PARAMETER, "invalid asset name {value}: names look like docs.js"
        ),
    ),
]
InvocationId = Annotated[
    str,
    Meta(
        title="InvocationId",
        pattern=f"^{INVOCATION_ID_RE.pattern}$",
        description="<function>.<24 hex digits>, as returned by POST /invoke/{fn}",
        extra=_error(
            ErrorCode.INVALID_INVOCATION_ID,
            "invalid invocation id {value}: ids look like <function>.<24 hex digits>, "
            "as returned by POST /invoke/<function>",
        ),
    ),
]
ScheduleId = Annotated[
    str,
    Meta(
        title="ScheduleId",
        pattern=f"^{SCHEDULE_ID_RE.pattern}$",
        description="1-128 letters, digits, '_', '.' or '-'; 'file.' ids belong to files",
        extra=_error(
            ErrorCode.INVALID_SCHEDULE_ID,
            "invalid schedule id {value}: use 1-128 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit",
        ),
    ),
]
IdempotencyKey = Annotated[
    str,
    Meta(
        title="IdempotencyKey",
        min_length=1,
        max_length=255,
        pattern="^[ -~]+$",
        description="repeats within {idempotency_ttl:g} s (STREAMFN_IDEMPOTENCY_TTL) return "
        "the first invocation instead of queueing another",
        extra=_error(
            ErrorCode.INVALID_PARAMETER,
            "Idempotency-Key must be {min_length}-{max_length} printable ASCII characters",
        ),
    ),
]

# Numbers and times in a query are always invalid_parameter; params.py words their messages.
Wait = Annotated[
    float,
    Meta(
        title="Wait",
        gt=0,
        description="seconds to wait for a final status (long poll), at most "
        "{max_wait:g} (STREAMFN_MAX_WAIT)",
        extra={"maximum": "max_wait"},  # the Settings field that bounds it
    ),
]
Delay = Annotated[
    float,
    Meta(
        title="Delay",
        ge=0,
        le=MAX_DELAY_S,
        description="seconds before the invocation is queued (not with at)",
    ),
]
At = Annotated[
    datetime,
    Meta(
        title="At",
        tz=True,
        description="RFC 3339 time with an offset or Z to queue at (not with delay), "
        f"at most {MAX_DELAY_S / 86400:g} days ahead",
        extra={"within": MAX_DELAY_S},  # seconds from now
    ),
]
Count = Annotated[
    int,
    Meta(title="Count", ge=1, le=1000, description="how many to list, newest first"),
]
