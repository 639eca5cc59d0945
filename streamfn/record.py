"""The read model of one invocation: its record plus what the stream says about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.exceptions import ResponseError

from streamfn import codec, partitions
from streamfn.connection import AnyRedis
from streamfn.keys import GROUP, Keys
from streamfn.names import queue_of
from streamfn.scripts import Reply

FINAL = frozenset({Reply.SUCCEEDED, Reply.FAILED, Reply.DEAD, Reply.CANCELLED})
STATUSES = tuple(
    s.value
    for s in (
        Reply.SCHEDULED,
        Reply.QUEUED,
        Reply.RUNNING,
        Reply.SUCCEEDED,
        Reply.FAILED,
        Reply.DEAD,
        Reply.CANCELLED,
    )
)


@dataclass(frozen=True, slots=True)
class Invocation:
    """What ``GET /invocations/{id}`` shows.  Times are epoch milliseconds (Redis clock)."""

    id: str
    function: str
    status: str
    attempt: int
    deliveries: int | None
    created_ms: int | None
    due_ms: int | None
    queued_ms: int | None
    finished_ms: int | None
    duration_ms: int | None
    result: Any
    error: Any
    payload: Any
    extra: dict[str, str]
    tags: tuple[str, ...] = ()

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def to_json(self, *, include_payload: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "function": self.function,
            "status": self.status,
            "attempt": self.attempt,
            "created_at": self.created_ms,
        }
        optional = {
            "deliveries": self.deliveries,
            "due_at": self.due_ms,
            "queued_at": self.queued_ms,
            "finished_at": self.finished_ms,
            "duration_ms": self.duration_ms,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        if self.status == Reply.SUCCEEDED:
            body["result"] = self.result
        if self.error is not None:
            body["error"] = self.error
        if self.tags:
            body["tags"] = list(self.tags)
        body.update(self.extra)
        if include_payload:
            body["payload"] = self.payload
        return body


def _int(raw: bytes | None) -> int | None:
    return None if raw is None else int(float(raw))


async def load_invocation(redis: AnyRedis, keys: Keys, invocation_id: str) -> Invocation | None:
    """The invocation, or None if the id is unknown or its record expired.

    "running" is derived, not stored: a queued record whose stream entry is in the consumer
    group's pending list has been delivered to a runner.
    """
    queue = queue_of(invocation_id)
    if queue is None:
        return None
    fn = partitions.function_of_queue(queue)
    raw: dict[bytes, bytes] = await redis.hgetall(keys.invocation(queue, invocation_id))  # type: ignore[assignment]
    if not raw or b"status" not in raw:
        return None
    status = raw[b"status"].decode()
    deliveries = None
    entry = raw.get(b"entry")
    if status == Reply.QUEUED and entry is not None:
        pending = await _pending(redis, keys.stream(queue), entry)
        if pending is not None:
            status, deliveries = Reply.RUNNING.value, pending
    return Invocation(
        id=invocation_id,
        function=fn,
        status=status,
        attempt=_int(raw.get(b"attempt")) or 1,
        deliveries=deliveries,
        created_ms=_int(raw.get(b"created")),
        due_ms=_int(raw.get(b"due")),
        queued_ms=_int(raw.get(b"queued_at")),
        finished_ms=_int(raw.get(b"finished")),
        duration_ms=_int(raw.get(b"duration_ms")),
        result=codec.loads(raw[b"result"]) if b"result" in raw else None,
        error=codec.loads(raw[b"error"]) if b"error" in raw else None,
        payload=codec.loads(raw[b"payload"]) if b"payload" in raw else None,
        extra={k.decode()[2:]: v.decode() for k, v in raw.items() if k.startswith(b"x_")},
        tags=tuple(raw[b"tags"].decode().split(",")) if raw.get(b"tags") else (),
    )


async def _pending(redis: AnyRedis, stream: str, entry: bytes) -> int | None:
    """Delivery count if ``entry`` is pending in the group, else None."""
    try:
        rows = await redis.xpending_range(stream, GROUP, min=entry, max=entry, count=1)
    except ResponseError as exc:
        if "NOGROUP" not in str(exc):
            raise
        return None
    if not rows:
        return None
    return int(rows[0]["times_delivered"])
