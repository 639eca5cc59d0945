"""When a schedule fires: cron or interval specs, their validation, and the next-fire function.

Cron expressions have 5 fields (minute hour day month weekday) or 6 with **seconds first**
(``*/5 * * * * *``), or are one of the ``@hourly`` aliases; they are evaluated in the schedule's
IANA time zone (default UTC) with the DST rules of :mod:`streamfn.schedules.wallclock`.
``every`` intervals (``30s``, ``5m``, ``1h30m``, ``2d``) are absolute durations anchored at
``start_at`` (or the creation time), so every process computes the same fire times.
All times are epoch milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from croniter.croniter import CroniterError

from streamfn.schedules.wallclock import CronClock, resolve


class ScheduleError(ValueError):
    """A schedule we cannot use; the message says what was wrong and what to write instead."""


ALIASES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_INTERVAL_RE = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_UNIT_MS = (86_400_000, 3_600_000, 60_000, 1000)
MIN_INTERVAL_MS = 1000
MAX_INTERVAL_MS = 366 * 86_400_000


@dataclass(frozen=True, slots=True)
class Spec:
    """When one schedule fires.  ``anchor_ms`` is the grid origin of an ``every`` schedule."""

    kind: str  # "cron" | "every"
    expr: str  # the cron expression (whitespace normalised) or the interval as written
    timezone: str = "UTC"
    interval_ms: int = 0
    anchor_ms: int = 0
    start_at: int | None = None
    end_at: int | None = None
    limit: int | None = None


def parse_cron(expr: str) -> str:
    """The normalised expression, or ScheduleError saying what is wrong with it."""
    text = " ".join(expr.split())
    if text.startswith("@"):
        if text.lower() not in ALIASES:
            raise ScheduleError(
                f"cron alias {expr!r} is not supported; use one of {', '.join(sorted(ALIASES))}"
            )
        return text.lower()
    n = len(text.split(" ")) if text else 0
    if n not in (5, 6):
        raise ScheduleError(
            f"cron {expr!r} has {n} fields; use 5 (minute hour day month weekday) or 6 with "
            "seconds first (second minute hour day month weekday), e.g. '*/5 * * * * *'"
        )
    try:
        croniter(text, datetime(2000, 1, 1), second_at_beginning=n == 6)
    except (CroniterError, ValueError, KeyError) as exc:
        raise ScheduleError(f"cron {expr!r} is not valid: {exc}") from None
    return text


def parse_every(text: str) -> int:
    """An interval such as ``30s``, ``5m``, ``1h30m`` or ``2d`` in milliseconds."""
    match = _INTERVAL_RE.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise ScheduleError(
            f"every {text!r} is not an interval; write a duration like '30s', '5m', '1h30m' or "
            "'2d' (units d, h, m, s in that order)"
        )
    ms = sum(int(g) * unit for g, unit in zip(match.groups(), _UNIT_MS, strict=True) if g)
    if ms < MIN_INTERVAL_MS:
        raise ScheduleError(f"every {text!r} is under 1 second; the shortest interval is '1s'")
    if ms > MAX_INTERVAL_MS:
        raise ScheduleError(f"every {text!r} is over 366 days; use a cron expression instead")
    return ms


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a directory
        raise ScheduleError(
            f"timezone {name!r} is not a known IANA zone; use a name like 'UTC', "
            "'Europe/Berlin' or 'America/New_York'"
        ) from None


MAX_TIME_MS = 32_503_680_000_000
"""3000-01-01T00:00:00Z: times must be before it, so date arithmetic in every zone stays valid."""


def parse_time(value: object, tz: ZoneInfo, name: str) -> int:
    """Epoch ms from an integer (ms) or an ISO 8601 string (no offset: the schedule's zone)."""
    ms = _epoch_ms(value, tz)
    if ms is None:
        raise ScheduleError(
            f"{name} {value!r} is not a time; give epoch milliseconds or ISO 8601 such as "
            "'2030-01-01T09:00:00+01:00' (without an offset it is read in the schedule's timezone)"
        )
    if not 0 <= ms < MAX_TIME_MS:
        raise ScheduleError(f"{name} {value!r} must be from 1970 to before the year 3000")
    return ms


def _epoch_ms(value: object, tz: ZoneInfo) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
        if when.tzinfo is None:
            return resolve(when.replace(microsecond=0), tz)[0] + when.microsecond // 1000
        return int(when.timestamp() * 1000)
    except (ValueError, OverflowError):  # not ISO 8601, or out of datetime's range
        return None


def build_spec(
    *,
    cron: str | None,
    every: str | None,
    timezone: str = "UTC",
    start_at: int | None = None,
    end_at: int | None = None,
    limit: int | None = None,
) -> Spec:
    """A checked :class:`Spec`; exactly one of ``cron`` and ``every`` must be given."""
    if (cron is None) == (every is None):
        raise ScheduleError("give exactly one of 'cron' (e.g. '*/5 * * * * *') or 'every' ('30s')")
    parse_timezone(timezone)
    if end_at is not None and start_at is not None and end_at < start_at:
        raise ScheduleError(f"end_at ({end_at}) is before start_at ({start_at}); swap or fix them")
    if limit is not None and limit < 1:
        raise ScheduleError(f"limit {limit} must be at least 1 (or left out for no limit)")
    if every is not None:
        interval = parse_every(every)
        return Spec(
            "every", every.strip(), timezone, interval, start_at or 0, start_at, end_at, limit
        )
    assert cron is not None
    spec = Spec("cron", parse_cron(cron), timezone, 0, 0, start_at, end_at, limit)
    if _clock(spec.expr, timezone).next_after(start_at or 946_684_800_000) is None:
        raise ScheduleError(f"cron {cron!r} never matches a date (e.g. 30 February)")
    return spec


@lru_cache(maxsize=4096)
def _clock(expr: str, timezone: str) -> CronClock:
    seconds_first = not expr.startswith("@") and len(expr.split(" ")) == 6
    return CronClock(expr, ZoneInfo(timezone), seconds_first=seconds_first)


def next_fire(spec: Spec, after_ms: int, fired: int = 0) -> int | None:
    """The first fire strictly after ``after_ms``; None when the schedule is finished.

    Finished means no fire left at or before ``end_at``, or ``fired`` (fires so far) has
    reached ``limit``.  Fires are never before ``start_at``.
    """
    if spec.limit is not None and fired >= spec.limit:
        return None
    after = after_ms if spec.start_at is None else max(after_ms, spec.start_at - 1)
    at: int | None
    if spec.kind == "every":
        step = spec.interval_ms
        at = (
            spec.anchor_ms
            if after < spec.anchor_ms
            else spec.anchor_ms + ((after - spec.anchor_ms) // step + 1) * step
        )
    else:
        at = _clock(spec.expr, spec.timezone).next_after(after)
    if at is None or (spec.end_at is not None and at > spec.end_at):
        return None
    return at
