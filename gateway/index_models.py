"""Parameters and answer of ``GET /invocations``: a page of one function's invocations."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType

from streamfn.gateway.models import Ms, Status
from streamfn.gateway.scalars import (
    Cursor,
    FunctionName,
    IdempotencyKey,
    Limit,
    ScheduleId,
    Since,
    StatusFilter,
    Tag,
    Until,
)
from streamfn.index.query import DEFAULT_LIMIT


class InvocationsQuery(Struct, frozen=True):
    function: Annotated[FunctionName, Meta(description="the function (required)")]
    status: StatusFilter | None = None
    since: Since | None = None
    until: Until | None = None
    schedule: Annotated[ScheduleId, Meta(description="only fires of this schedule")] | None = None
    tag: Tag | None = None
    idempotency_key: IdempotencyKey | None = None
    cursor: Cursor | None = None
    limit: Limit = DEFAULT_LIMIT


class InvocationSummary(Struct, kw_only=True):
    """One invocation as a listing shows it (no payload or result: GET /invocations/{id})."""

    id: str
    function: str
    status: Status
    attempt: Annotated[int, Meta(ge=1)]
    created_at: Ms | UnsetType = UNSET
    due_at: Ms | UnsetType = UNSET
    queued_at: Ms | UnsetType = UNSET
    finished_at: Ms | UnsetType = UNSET
    duration_ms: int | UnsetType = UNSET
    deliveries: Annotated[int, Meta(description="times delivered (running only)")] | UnsetType = (
        UNSET
    )
    tags: list[str] | UnsetType = UNSET
    schedule: str | UnsetType = UNSET
    error: Annotated[Any, Meta(description="the last failure: {type, message, ...}")] = UNSET


class InvocationList(Struct, kw_only=True):
    """Newest first.  ``next_cursor``: pass it as ``cursor`` for the next page (each
    invocation is listed once however many arrive meanwhile); null when there are no more.
    A page may hold fewer than ``limit`` even when more follow: a rare filter's page stops
    after a bounded number of candidates."""

    function: str
    invocations: list[InvocationSummary]
    next_cursor: str | None
