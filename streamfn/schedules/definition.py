"""What a user defines (a :class:`ScheduleDef`), parsed from a request body or a file.

The same parser serves ``POST /schedules``, ``PUT /schedules/{id}`` and file-declared
``SCHEDULE`` values, so every path gives the same checks and the same error messages.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from streamfn import codec
from streamfn.names import FUNCTION_RE
from streamfn.schedules.spec import ScheduleError, Spec, build_spec, parse_time, parse_timezone

SCHEDULE_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
"""Schedule ids: a letter or digit, then letters, digits, ``_``, ``.`` or ``-``; 128 at most."""

FILE_ID_PREFIX = "file."
"""Ids of file-declared schedules start with this; API ids may not (the file owns them)."""

MISFIRE_POLICIES = ("skip", "fire_once", "catch_up")
DEFAULT_MISFIRE = "fire_once"
DEFAULT_CATCH_UP_MAX = 10
MAX_CATCH_UP = 1000

FIELDS = frozenset(
    {"id", "function", "cron", "every", "payload", "timezone", "misfire", "catch_up_max"}
    | {"start_at", "end_at", "limit"}
)


@dataclass(frozen=True, slots=True)
class Misfire:
    """What to fire for times missed while no scheduler ran (see :mod:`.firing`)."""

    policy: str = DEFAULT_MISFIRE
    catch_up_max: int = 0  # only for "catch_up"


@dataclass(frozen=True, slots=True)
class ScheduleDef:
    """A checked schedule definition: everything a user chooses, none of its fire state."""

    id: str
    function: str
    spec: Spec
    payload: bytes  # JSON
    misfire: Misfire
    source: str = "api"  # or "file:<function>.py"

    def fields(self) -> dict[str, str]:
        """The definition as schedule hash fields ("" for an absent optional value)."""
        s = self.spec
        return {
            "function": self.function,
            "kind": s.kind,
            "spec": s.expr,
            "timezone": s.timezone,
            "payload": self.payload.decode(),
            "misfire": self.misfire.policy,
            "catch_up_max": str(self.misfire.catch_up_max),
            "start_at": _opt(s.start_at),
            "end_at": _opt(s.end_at),
            "limit": _opt(s.limit),
            "anchor": str(s.anchor_ms),
            "source": self.source,
        }

    def digest(self) -> str:
        """Identifies the definition; the ``every`` anchor (creation time) is left out."""
        fields = self.fields()
        del fields["anchor"]
        return hashlib.sha256(codec.dumps(fields)).hexdigest()


def _opt(value: int | None) -> str:
    return "" if value is None else str(value)


def new_schedule_id() -> str:
    """A random id for a schedule created without one (96 random bits)."""
    return secrets.token_hex(12)


def fire_invocation_id(function: str, schedule_id: str, planned_ms: int) -> str:
    """The invocation id of one planned fire: the same inputs always give the same id.

    Shaped like every id (:func:`streamfn.names.new_invocation_id`): the planned time in ms,
    partition code 0 (fires run in the home queue), then 40 bits of the inputs' digest.
    """
    digest = hashlib.sha256(f"{schedule_id}:{planned_ms}".encode()).hexdigest()
    return f"{function}.{planned_ms & 0xFFFF_FFFF_FFFF:012x}00{digest[:10]}"


def check_schedule_id(schedule_id: object, *, source: str = "api") -> str:
    if not isinstance(schedule_id, str) or not SCHEDULE_ID_RE.fullmatch(schedule_id):
        raise ScheduleError(
            f"schedule id {schedule_id!r} is not valid; use 1-128 letters, digits, '_', '.' or "
            "'-', starting with a letter or digit"
        )
    if source == "api" and schedule_id.startswith(FILE_ID_PREFIX):
        raise ScheduleError(
            f"schedule id {schedule_id!r} starts with {FILE_ID_PREFIX!r}, which is reserved for "
            "schedules declared in function files; pick another id, or edit the file"
        )
    return schedule_id


def parse_definition(
    body: Mapping[str, Any], *, schedule_id: str | None = None, source: str = "api"
) -> ScheduleDef:
    """Check a request body (or a file's declaration) and build the definition.

    ``schedule_id`` (from the URL or the file) wins over a random id; a body ``id`` must agree
    with it.  Raises :class:`ScheduleError` naming the first problem found.
    """
    unknown = sorted(set(body) - FIELDS)
    if unknown:
        raise ScheduleError(
            f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(FIELDS))}"
        )
    if schedule_id is not None and body.get("id", schedule_id) != schedule_id:
        raise ScheduleError(f"body id {body['id']!r} differs from the schedule id {schedule_id!r}")
    sid = schedule_id if schedule_id is not None else body.get("id")
    sid = new_schedule_id() if sid is None else check_schedule_id(sid, source=source)
    function = body.get("function")
    if not isinstance(function, str) or not FUNCTION_RE.fullmatch(function):
        raise ScheduleError(
            f"function {function!r} is not a function name; use lower-case letters, digits "
            "and '_', starting with a letter (the file name in functions/ without .py)"
        )
    timezone = _text(body, "timezone") or "UTC"
    tz = parse_timezone(timezone)
    start = body.get("start_at")
    end = body.get("end_at")
    spec = build_spec(
        cron=_text(body, "cron"),
        every=_text(body, "every"),
        timezone=timezone,
        start_at=None if start is None else parse_time(start, tz, "start_at"),
        end_at=None if end is None else parse_time(end, tz, "end_at"),
        limit=_count(body, "limit"),
    )
    try:
        payload = codec.dumps(body.get("payload"))
    except TypeError as exc:
        raise ScheduleError(f"payload cannot be stored as JSON: {exc}") from None
    return ScheduleDef(sid, function, spec, payload, _misfire(body), source)


def _text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ScheduleError(f"{name} must be a string, not {type(value).__name__}")
    return value


def _count(body: Mapping[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise ScheduleError(f"{name} must be a whole number, not {value!r}")
    return value


def _misfire(body: Mapping[str, Any]) -> Misfire:
    policy = _text(body, "misfire") or DEFAULT_MISFIRE
    if policy not in MISFIRE_POLICIES:
        raise ScheduleError(
            f"misfire {policy!r} is not a policy; use one of {', '.join(MISFIRE_POLICIES)}"
        )
    most = _count(body, "catch_up_max")
    if policy != "catch_up":
        if most is not None:
            raise ScheduleError("catch_up_max applies only with misfire 'catch_up'")
        return Misfire(policy)
    most = DEFAULT_CATCH_UP_MAX if most is None else most
    if not 1 <= most <= MAX_CATCH_UP:
        raise ScheduleError(f"catch_up_max {most} must be from 1 to {MAX_CATCH_UP}")
    return Misfire(policy, most)
