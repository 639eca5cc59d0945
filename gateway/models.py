"""Parameters and bodies of the invocation, function, dead-letter and health routes.

Each route's path, query and headers are a frozen Struct of :mod:`.scalars` values: handlers
parse into them (:mod:`.params`), the route table names them, the document describes them.
Responses a handler builds are Structs here, encoded by msgspec.  ``Invocation``, ``DeadLetter``
and ``FunctionInfo`` describe the shape ``streamfn`` itself builds (``to_json``, the catalog),
which the gateway passes through as is; tests check real answers against them.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from msgspec import UNSET, Meta, Struct, UnsetType, field

from streamfn.errors import ErrorCode
from streamfn.gateway.scalars import (
    AssetName,
    At,
    Count,
    Delay,
    FunctionName,
    IdempotencyKey,
    InvocationId,
    Wait,
)
from streamfn.record import STATUSES

Ms = Annotated[int, Meta(description="epoch milliseconds, Redis clock")]
Status = Annotated[str, Meta(extra_json_schema={"enum": [*STATUSES, "expired"]})]
Payload = Annotated[Any, Meta(description="any JSON value")]


class InvokePath(Struct, frozen=True):
    fn: FunctionName


class InvocationPath(Struct, frozen=True):
    id: InvocationId


class InvokeQuery(Struct, frozen=True):
    wait: Wait | None = None
    delay: Delay | None = None
    at: At | None = None

    exclusive: ClassVar[tuple[tuple[str, ...], ...]] = (("delay", "at"),)
    """Parameters that may not be given together (checked before their values)."""

    @property
    def at_ms(self) -> int:
        """``at`` in epoch ms, or 0 when not given."""
        return 0 if self.at is None else math.floor(self.at.timestamp() * 1000)


class InvokeHeaders(Struct, frozen=True):
    idempotency_key: IdempotencyKey | None = field(default=None, name="Idempotency-Key")


class WaitQuery(Struct, frozen=True):
    wait: Wait | None = None


class DeadLettersQuery(Struct, frozen=True):
    function: FunctionName
    count: Count = 100


class NoQuery(Struct, frozen=True):
    """A route that takes no query parameters: any one is refused."""


class Accepted(Struct, kw_only=True):
    """Not finished yet: where to look it up (``Location``) and its state."""

    id: str
    status: Status
    due_at: Ms | UnsetType = UNSET


class Invocation(Struct, kw_only=True):
    """An invocation: its status, attempt, times and, once final, its result or error.  The
    fires of a schedule also carry ``schedule`` and ``planned``."""

    id: str
    function: str
    status: Status
    attempt: Annotated[int, Meta(ge=1)]
    created_at: int | None
    deliveries: Annotated[int, Meta(description="times delivered (running only)")] | UnsetType = (
        UNSET
    )
    due_at: Ms | UnsetType = UNSET
    queued_at: Ms | UnsetType = UNSET
    finished_at: Ms | UnsetType = UNSET
    duration_ms: int | UnsetType = UNSET
    result: Annotated[Any, Meta(description="the handler's return value (succeeded only)")] = UNSET
    error: Annotated[Any, Meta(description="the last failure: {type, message, ...}")] = UNSET
    schedule: str | UnsetType = UNSET
    planned: str | UnsetType = UNSET


class Cancelled(Struct, kw_only=True):
    id: str
    status: Literal["cancelled"]


class Cancelling(Struct, kw_only=True):
    id: str
    status: Literal["cancelling"]


class Requeued(Struct, kw_only=True):
    id: str
    status: Literal["queued"]


class Discarded(Struct, kw_only=True):
    id: str
    status: Literal["discarded"]


class FunctionPath(Struct, frozen=True):
    fn: FunctionName


class AssetPath(Struct, frozen=True):
    name: AssetName


Count0 = Annotated[int, Meta(ge=0)]
AgeSeconds = Annotated[
    float, Meta(ge=0, description="age of the oldest queued invocation, s (0: none)")
]


class FunctionInfo(Struct, kw_only=True):
    """A deployed function: invocations are accepted.  ``live``: a live runner loads it;
    ``no_runner``: none does (they wait in its queues) until ``retained_until``."""

    name: str
    state: Literal["live", "no_runner"]
    runners: Annotated[int, Meta(description="live runners that loaded it")]
    queued: Count0
    running: Count0
    scheduled: Annotated[int, Meta(ge=0, description="delayed invocations and retries")]
    oldest_queued_age_s: AgeSeconds
    last_seen_at: Annotated[Ms, Meta(description="when a live runner last had it")] | UnsetType = (
        UNSET
    )
    retained_until: Annotated[Ms, Meta(description="removed then unless a runner loads it")] | (
        UnsetType
    ) = UNSET
    timeout: float | UnsetType = UNSET
    retries: int | UnsetType = UNSET
    kind: str | UnsetType = UNSET
    partitions: int | UnsetType = UNSET


class RemovedFunction(Struct, kw_only=True):
    """A function that was deployed and is no more (invocations get 404): its file left every
    runner that had it, an operator removed it, or no runner came back within the retention.
    What its queues still hold is kept, and runs if a runner loads it again."""

    name: str
    state: Literal["removed"]
    reason: Literal["file_removed", "operator", "retention_expired"]
    removed_at: Ms
    last_seen_at: Annotated[Ms, Meta(description="when a live runner last had it")]
    queued: Count0
    running: Count0
    scheduled: Count0
    oldest_queued_age_s: AgeSeconds
    partitions: int | UnsetType = UNSET


class Functions(Struct, kw_only=True):
    functions: list[FunctionInfo]
    removed: Annotated[list[RemovedFunction], Meta(description="removed, with what they hold")]
    errors: Annotated[dict[str, str], Meta(description="load error by file")]
    runners: Annotated[int, Meta(ge=0)]


class DeadLetter(Struct, kw_only=True):
    entry: str
    id: str
    payload: Payload
    error: Annotated[Any, Meta(description="the failure that killed it")]
    attempts: int
    dead_at: Ms


class DeadLetters(Struct, kw_only=True):
    function: str
    dead_letters: list[DeadLetter]


class Health(Struct, kw_only=True):
    status: Literal["ok"]


class Backlog(Struct, kw_only=True):
    """What KEDA scales the runners on: queued and running invocations, every function."""

    backlog: Annotated[
        int, Meta(ge=0, description="invocations queued or running (entries in the streams)")
    ]
    functions: Annotated[int, Meta(ge=0, description="functions counted (the catalog's)")]
    queues: Annotated[int, Meta(ge=0, description="streams read, over every PARTITIONS layout")]


class ErrorDetail(Struct, kw_only=True):
    code: Annotated[str, Meta(extra_json_schema={"enum": [c.code for c in ErrorCode]})]
    message: Annotated[str, Meta(description="what was wrong and what to do")]
    status: Annotated[Status, Meta(description="the current status (409 only)")] | UnsetType = UNSET
    function: Annotated[str, Meta(description="429 only")] | UnsetType = UNSET
    backlog: Annotated[int, Meta(description="429 only")] | UnsetType = UNSET
    cap: Annotated[int, Meta(description="429 only")] | UnsetType = UNSET


class Located(Struct):
    """Response headers of an answer about one invocation (or schedule)."""

    location: Annotated[str, Meta(description="where to look it up")] = field(name="Location")


class Replayable(Located):
    replayed: (
        Annotated[
            Literal["true"],
            Meta(description="an Idempotency-Key repeat returned the first invocation"),
        ]
        | UnsetType
    ) = field(default=UNSET, name="Idempotent-Replayed")


class RetryAfter(Struct):
    retry_after: Annotated[int, Meta(description="seconds")] = field(name="Retry-After")


class Error(Struct, kw_only=True):
    """Every error: ``{"error": {"code", "message", ...}}``."""

    error: ErrorDetail
