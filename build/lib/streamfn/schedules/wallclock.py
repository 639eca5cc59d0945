"""Wall-clock time in an IANA zone, and the two DST rules every cron schedule follows.

Cron expressions name wall-clock times ("02:30 every day"), so they are stepped on naive local
times and each candidate is then mapped to one instant:

* **Spring forward** (a wall time that does not exist that day, e.g. 02:30 in Europe/Berlin on
  the last Sunday of March, when 02:00 CET jumps to 03:00 CEST): the fire happens **once, at the
  first valid instant after the gap** (03:00 CEST).  Several wall times inside the gap (``*/5``)
  collapse into that one fire, so nothing fires twice and a daily job is not lost.
* **Fall back** (a wall time that occurs twice, e.g. 02:30 on the last Sunday of October, when
  03:00 CEST goes back to 02:00 CET): the fire happens **once, at the first occurrence**
  (02:30 CEST).  Wall times of the repeated hour already fired in its first pass, so a schedule
  that fires every second or minute is silent during the second pass.  Use ``every`` for
  absolute intervals that ignore the wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from croniter import croniter
from croniter.croniter import CroniterBadDateError

_SECOND = timedelta(seconds=1)
_MAX_STEPS = 16  # each step returns or jumps past one DST window; 16 is far more than needed
_MEMO_MAX = 4096


def local_naive(ms: int, tz: tzinfo) -> datetime:
    """The wall-clock time (whole seconds, no tzinfo) of epoch ``ms`` in ``tz``."""
    instant = datetime.fromtimestamp(ms // 1000, UTC)
    return instant.astimezone(tz).replace(tzinfo=None)


def _is_utc(tz: tzinfo) -> bool:
    return tz is UTC or (isinstance(tz, ZoneInfo) and tz.key in ("UTC", "Etc/UTC"))


def _ms(instant: datetime) -> int:
    return int(instant.timestamp()) * 1000


def _offset(seconds: int, tz: tzinfo) -> timedelta | None:
    return datetime.fromtimestamp(seconds, UTC).astimezone(tz).utcoffset()


def _transition(lo: int, hi: int, tz: tzinfo) -> int:
    """The first second in (lo, hi] whose UTC offset is that of ``hi`` (bisection)."""
    target = _offset(hi, tz)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset(mid, tz) == target:
            hi = mid
        else:
            lo = mid
    return hi


def resolve(wall: datetime, tz: tzinfo) -> tuple[int, datetime | None]:
    """Map a naive wall time to the instant (epoch ms) a schedule fires at.

    Returns ``(ms, repeat_end)``: ``repeat_end`` is None unless ``wall`` occurs twice, in which
    case ``ms`` is its first occurrence and ``repeat_end`` the first wall time after the
    repeated span (steppers jump there rather than walk the whole span).
    """
    if _is_utc(tz):
        return _ms(wall.replace(tzinfo=UTC)), None
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    first_utc = int(first.timestamp())
    second_utc = int(second.timestamp())
    if first_utc == second_utc:
        return first_utc * 1000, None
    if datetime.fromtimestamp(first_utc, UTC).astimezone(tz).replace(tzinfo=None) != wall:
        # A gap: fold=1 gives the earlier instant, fold=0 the later; the gap ends between them.
        return _transition(second_utc, first_utc, tz) * 1000, None
    change = _transition(first_utc, second_utc, tz)
    old_offset = first.utcoffset()
    assert old_offset is not None
    repeat_end = datetime.fromtimestamp(change, UTC).replace(tzinfo=None) + old_offset
    return first_utc * 1000, repeat_end


class CronClock:
    """Next fire of one cron expression in one zone, after any instant, by the rules above."""

    def __init__(self, expr: str, tz: tzinfo, *, seconds_first: bool) -> None:
        self._iter = croniter(expr, datetime(2000, 1, 1), second_at_beginning=seconds_first)
        self.tz = tz
        # Schedules sharing an expression are due together and ask for the same answer.
        self._memo: dict[int, int | None] = {}

    def next_after(self, after_ms: int) -> int | None:
        """The first fire strictly after ``after_ms``; None if the expression never matches."""
        if after_ms in self._memo:
            return self._memo[after_ms]
        if len(self._memo) >= _MEMO_MAX:
            self._memo.clear()
        found = self._next_after(after_ms)
        self._memo[after_ms] = found
        return found

    def _next_after(self, after_ms: int) -> int | None:
        cursor = local_naive(after_ms, self.tz)
        for _ in range(_MAX_STEPS):
            self._iter.set_current(cursor, force=True)
            try:
                wall: datetime = self._iter.get_next(datetime)
            except CroniterBadDateError:
                return None
            ms, repeat_end = resolve(wall, self.tz)
            if ms > after_ms:
                return ms
            # Only a repeated wall time whose first occurrence is past can land here: skip
            # the rest of the repeated span, which fired in its first pass.
            cursor = repeat_end - _SECOND if repeat_end is not None else wall
        return None
