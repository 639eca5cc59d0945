"""Parameters and bodies of the ``/schedules`` routes.

``ScheduleDefinition`` describes the request body; it is checked by
:func:`streamfn.schedules.parse_definition`, which file-declared schedules share, so its
messages are the same on every path (``FIELDS`` there and the fields here are tested equal).
``Schedule`` describes :meth:`streamfn.schedules.Schedule.to_json`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from streamfn.gateway.models import Ms, Payload
from streamfn.gateway.scalars import FunctionName, ScheduleId
from streamfn.schedules.definition import (
    DEFAULT_CATCH_UP_MAX,
    DEFAULT_MISFIRE,
    MAX_CATCH_UP,
    MISFIRE_POLICIES,
)


class SchedulePath(Struct, frozen=True):
    id: ScheduleId


class SchedulesQuery(Struct, frozen=True):
    function: Annotated[FunctionName, Meta(description="only this function's schedules")] | None = (
        None
    )


Cron = Annotated[
    str, Meta(description="5 fields, or 6 with seconds first ('*/5 * * * * *'), or @hourly etc.")
]
Every = Annotated[str, Meta(description="an interval such as 30s, 5m, 1h30m (>= 1s)")]
Timezone = Annotated[str, Meta(description="an IANA zone")]
Misfire = Annotated[
    str,
    Meta(
        description="what to fire for times missed while no scheduler ran",
        extra_json_schema={"enum": list(MISFIRE_POLICIES)},
    ),
]
CatchUpMax = Annotated[
    int,
    Meta(
        ge=1,
        le=MAX_CATCH_UP,
        description=f"with misfire catch_up only: most missed fires to make up "
        f"(default {DEFAULT_CATCH_UP_MAX})",
    ),
]
Time = Annotated[
    Annotated[int, Meta(ge=0)] | str,
    Meta(description="epoch ms, or ISO 8601 (without an offset: read in the schedule's timezone)"),
]
Limit = Annotated[int, Meta(ge=1, description="stop after this many fires")]


class ScheduleDefinition(Struct, kw_only=True, forbid_unknown_fields=True):
    """Exactly one of ``cron`` and ``every``."""

    function: FunctionName
    id: (
        Annotated[ScheduleId, Meta(description="makes POST an upsert; 'file.' is reserved")]
        | UnsetType
    ) = UNSET
    cron: Cron | UnsetType = UNSET
    every: Every | UnsetType = UNSET
    payload: Annotated[Any, Meta(description="any JSON value, passed to every fire")] = UNSET
    timezone: Timezone = "UTC"
    misfire: Misfire = DEFAULT_MISFIRE
    catch_up_max: CatchUpMax | UnsetType = UNSET
    start_at: Time | UnsetType = UNSET
    end_at: Time | UnsetType = UNSET
    limit: Limit | UnsetType = UNSET


class Schedule(Struct, kw_only=True):
    id: str
    function: str
    cron: Cron | UnsetType = UNSET
    every: Every | UnsetType = UNSET
    timezone: Timezone
    payload: Payload
    misfire: Misfire
    catch_up_max: CatchUpMax | UnsetType = UNSET
    start_at: Ms | UnsetType = UNSET
    end_at: Ms | UnsetType = UNSET
    limit: Limit | UnsetType = UNSET
    state: Annotated[str, Meta(extra_json_schema={"enum": ["active", "paused", "finished"]})]
    paused: bool
    fire_count: Annotated[int, Meta(ge=0)]
    last_fire_at: Ms | None
    last_invocation: str | None
    next_fire_at: Ms | None
    next_fire_local: Annotated[
        str | None, Meta(description="next_fire_at as ISO 8601 in the schedule's timezone")
    ]
    created_at: Ms
    updated_at: Ms
    source: Annotated[str, Meta(description="api, or file:<function>.py")]


class Schedules(Struct, kw_only=True):
    schedules: list[Schedule]


class ScheduleDeleted(Struct, kw_only=True):
    id: str
    status: Literal["deleted"]
