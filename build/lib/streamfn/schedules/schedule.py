"""The read model of one schedule: its definition plus fire state, as stored and as shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from streamfn import codec
from streamfn.schedules.definition import DEFAULT_MISFIRE, Misfire, ScheduleDef
from streamfn.schedules.spec import Spec, parse_every


@dataclass(frozen=True, slots=True)
class Schedule:
    """What ``GET /schedules/{id}`` shows.  Times are epoch milliseconds (Redis clock)."""

    definition: ScheduleDef
    paused: bool
    fire_count: int
    last_fire_ms: int | None
    last_invocation: str | None
    next_fire_ms: int | None  # None: paused or finished
    created_ms: int
    updated_ms: int
    rev: str  # random token of the definition version

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def function(self) -> str:
        return self.definition.function

    @property
    def state(self) -> str:
        """``active``, ``paused`` or ``finished`` (no fire left: past end_at or limit)."""
        if self.paused:
            return "paused"
        return "finished" if self.next_fire_ms is None else "active"

    def to_json(self) -> dict[str, Any]:
        d, s = self.definition, self.definition.spec
        body: dict[str, Any] = {
            "id": d.id,
            "function": d.function,
            s.kind: s.expr,
            "timezone": s.timezone,
            "payload": codec.loads(d.payload),
            "misfire": d.misfire.policy,
        }
        if d.misfire.policy == "catch_up":
            body["catch_up_max"] = d.misfire.catch_up_max
        optional = {"start_at": s.start_at, "end_at": s.end_at, "limit": s.limit}
        body.update({k: v for k, v in optional.items() if v is not None})
        body.update(
            state=self.state,
            paused=self.paused,
            fire_count=self.fire_count,
            last_fire_at=self.last_fire_ms,
            last_invocation=self.last_invocation,
            next_fire_at=self.next_fire_ms,
            next_fire_local=_local(self.next_fire_ms, s.timezone),
            created_at=self.created_ms,
            updated_at=self.updated_ms,
            source=d.source,
        )
        return body


def _local(ms: int | None, timezone: str) -> str | None:
    """ISO 8601 in the schedule's zone, so DST shifts are visible to a reader."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(timezone)).isoformat()


def _int(raw: bytes | None) -> int | None:
    return None if raw is None or raw == b"" else int(raw)


def _str(raw: bytes | None) -> str:
    return "" if raw is None else raw.decode()


def spec_from_hash(raw: dict[bytes, bytes]) -> Spec:
    """The stored spec, trusted (it was checked when written)."""
    return Spec(
        kind=_str(raw.get(b"kind")),
        expr=_str(raw.get(b"spec")),
        timezone=_str(raw.get(b"timezone")) or "UTC",
        interval_ms=_interval(raw),
        anchor_ms=_int(raw.get(b"anchor")) or 0,
        start_at=_int(raw.get(b"start_at")),
        end_at=_int(raw.get(b"end_at")),
        limit=_int(raw.get(b"limit")),
    )


def _interval(raw: dict[bytes, bytes]) -> int:
    return parse_every(_str(raw.get(b"spec"))) if raw.get(b"kind") == b"every" else 0


def misfire_from_hash(raw: dict[bytes, bytes]) -> Misfire:
    return Misfire(
        _str(raw.get(b"misfire")) or DEFAULT_MISFIRE, _int(raw.get(b"catch_up_max")) or 0
    )


def schedule_from_hash(schedule_id: str, raw: dict[bytes, bytes]) -> Schedule:
    """Build the read model from ``HGETALL`` of the schedule hash (must not be empty)."""
    definition = ScheduleDef(
        id=schedule_id,
        function=_str(raw.get(b"function")),
        spec=spec_from_hash(raw),
        payload=raw.get(b"payload", b"null"),
        misfire=misfire_from_hash(raw),
        source=_str(raw.get(b"source")) or "api",
    )
    return Schedule(
        definition=definition,
        paused=raw.get(b"paused") == b"1",
        fire_count=_int(raw.get(b"fire_count")) or 0,
        last_fire_ms=_int(raw.get(b"last_fire")),
        last_invocation=_str(raw.get(b"last_invocation")) or None,
        next_fire_ms=_int(raw.get(b"next_fire")),
        created_ms=_int(raw.get(b"created")) or 0,
        updated_ms=_int(raw.get(b"updated")) or 0,
        rev=_str(raw.get(b"rev")),
    )
