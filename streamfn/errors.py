"""Error codes shown to clients, in one enum with their HTTP status."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum


class ErrorCode(Enum):
    """``{"error": {"code": <value>, "message": ...}}``; the HTTP status lives beside the code."""

    INVALID_FUNCTION_NAME = ("invalid_function_name", 400)
    INVALID_INVOCATION_ID = ("invalid_invocation_id", 400)
    INVALID_JSON = ("invalid_json", 400)
    INVALID_PARAMETER = ("invalid_parameter", 400)
    INVALID_SCHEDULE = ("invalid_schedule", 400)
    INVALID_SCHEDULE_ID = ("invalid_schedule_id", 400)
    UNAUTHORIZED = ("unauthorized", 401)
    FORBIDDEN = ("forbidden", 403)
    UNKNOWN_FUNCTION = ("unknown_function", 404)
    NOT_FOUND = ("not_found", 404)
    METHOD_NOT_ALLOWED = ("method_not_allowed", 405)
    CONFLICT = ("conflict", 409)
    PAYLOAD_TOO_LARGE = ("payload_too_large", 413)
    UNSUPPORTED_MEDIA_TYPE = ("unsupported_media_type", 415)
    BACKLOG_FULL = ("backlog_full", 429)
    REDIS_UNAVAILABLE = ("redis_unavailable", 503)
    REPLICATION_UNCONFIRMED = ("replication_unconfirmed", 503)
    INTERNAL = ("internal_error", 500)

    @property
    def code(self) -> str:
        return self.value[0]

    @property
    def status(self) -> int:
        return self.value[1]


class StreamfnError(Exception):
    """An error with a code a client can act on."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class BacklogFull(StreamfnError):
    """enqueue refused new work: the function's stream already holds ``cap`` invocations.

    Nothing was written.  ``accepted`` and ``refused`` are set by ``Client.enqueue_many``: the
    ids it did queue, and the positions (in the input) of the payloads it did not.
    """

    def __init__(
        self,
        function: str,
        backlog: int,
        cap: int,
        *,
        accepted: Sequence[str] = (),
        refused: Sequence[int] = (),
    ) -> None:
        super().__init__(
            ErrorCode.BACKLOG_FULL,
            f"function {function!r} has {backlog} invocations queued or running and its cap is "
            f"{cap} (STREAMFN_MAX_BACKLOG): retry later, add runners or raise the cap",
        )
        self.function = function
        self.backlog = backlog
        self.cap = cap
        self.accepted = list(accepted)
        self.refused = list(refused)


class ReplicationUnconfirmed(StreamfnError):
    """Fewer replicas than ``STREAMFN_DURABLE_REPLICAS`` confirmed a write within the timeout.

    The write reached the master and may well survive, but a failover now could lose it, so it
    is not acknowledged.  Retrying with the same Idempotency-Key is safe: the key is checked
    first, so the invocation is queued at most once.
    """

    def __init__(self, acked: int, required: int, timeout_ms: int) -> None:
        super().__init__(
            ErrorCode.REPLICATION_UNCONFIRMED,
            f"the invocation reached the Redis master but {acked} of the {required} replicas "
            f"STREAMFN_DURABLE_REPLICAS requires confirmed it within {timeout_ms} ms, so a "
            "failover could lose it; retry with the same Idempotency-Key (safe: it is queued "
            "once; without a key a retry may queue it twice)",
        )
        self.acked = acked
        self.required = required
