"""Spec parsing (each invalid case with its message) and next-fire computation."""

from __future__ import annotations

import pytest

from streamfn.schedules.spec import (
    ScheduleError,
    Spec,
    build_spec,
    next_fire,
    parse_cron,
    parse_every,
    parse_time,
    parse_timezone,
)
from tests.schedules.helpers import BERLIN, UTC, ms, wall


def fires(spec: Spec, after: int, n: int) -> list[str]:
    out: list[str] = []
    at: int | None = after
    for _ in range(n):
        assert at is not None
        at = next_fire(spec, at)
        if at is None:
            break
        out.append(wall(at, parse_timezone(spec.timezone)))
    return out


def cron(expr: str, tz: str = "UTC", **bounds: int) -> Spec:
    return build_spec(cron=expr, every=None, timezone=tz, **bounds)


def test_five_fields_fire_on_minutes() -> None:
    spec = cron("*/15 9 * * 1-5")
    assert fires(spec, ms("2024-01-05 09:20:00"), 3) == [
        "2024-01-05 09:30:00+00:00",
        "2024-01-05 09:45:00+00:00",
        "2024-01-08 09:00:00+00:00",
    ]


def test_six_fields_take_seconds_first() -> None:
    spec = cron("*/5 * * * * *")
    assert fires(spec, ms("2024-01-01 00:00:00"), 3) == [
        "2024-01-01 00:00:05+00:00",
        "2024-01-01 00:00:10+00:00",
        "2024-01-01 00:00:15+00:00",
    ]
    # "30 0 * * * *" is second 30 of minute 0 of every hour, not minute 30.
    assert fires(cron("30 0 * * * *"), ms("2024-01-01 00:00:00"), 2) == [
        "2024-01-01 00:00:30+00:00",
        "2024-01-01 01:00:30+00:00",
    ]


def test_next_fire_is_strictly_after_even_mid_second() -> None:
    spec = cron("* * * * * *")
    start = ms("2024-01-01 00:00:00")
    assert next_fire(spec, start) == start + 1000
    assert next_fire(spec, start + 999) == start + 1000
    assert next_fire(spec, start - 1) == start


@pytest.mark.parametrize(
    ("alias", "first"),
    [
        ("@hourly", "2024-05-15 11:00:00+00:00"),
        ("@daily", "2024-05-16 00:00:00+00:00"),
        ("@midnight", "2024-05-16 00:00:00+00:00"),
        ("@weekly", "2024-05-19 00:00:00+00:00"),
        ("@monthly", "2024-06-01 00:00:00+00:00"),
        ("@yearly", "2025-01-01 00:00:00+00:00"),
        ("@annually", "2025-01-01 00:00:00+00:00"),
        ("@HOURLY", "2024-05-15 11:00:00+00:00"),
    ],
)
def test_aliases(alias: str, first: str) -> None:
    assert fires(cron(alias), ms("2024-05-15 10:30:00"), 1) == [first]


def test_cron_runs_in_the_schedules_zone() -> None:
    spec = cron("0 9 * * *", "America/New_York")
    at = next_fire(spec, ms("2024-07-01 00:00:00"))
    assert at is not None and wall(at) == "2024-07-01 13:00:00+00:00"  # 09:00 EDT
    spec = cron("0 9 * * *", "Asia/Kolkata")
    at = next_fire(spec, ms("2024-07-01 00:00:00"))
    assert at is not None and wall(at) == "2024-07-01 03:30:00+00:00"  # 09:00 IST (+05:30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", 30_000),
        ("5m", 300_000),
        ("1h", 3_600_000),
        ("1h30m", 5_400_000),
        ("2d", 172_800_000),
        ("1s", 1000),
        (" 90s ", 90_000),
        ("1d2h3m4s", 93_784_000),
    ],
)
def test_every_intervals(text: str, expected: int) -> None:
    assert parse_every(text) == expected


def test_every_is_anchored_at_start_at() -> None:
    start = ms("2024-01-01 00:00:07")
    spec = build_spec(cron=None, every="10s", start_at=start)
    assert next_fire(spec, start - 60_000) == start  # the first fire is start_at itself
    assert next_fire(spec, start) == start + 10_000
    assert next_fire(spec, start + 25_000) == start + 30_000


def test_every_ignores_dst() -> None:
    spec = build_spec(
        cron=None, every="1h", timezone="Europe/Berlin", start_at=ms("2024-03-31 00:00:00", BERLIN)
    )
    walls = fires(spec, ms("2024-03-31 00:00:00", BERLIN), 3)
    assert walls == [
        "2024-03-31 01:00:00+01:00",
        "2024-03-31 03:00:00+02:00",  # one hour after 01:00 CET, across the gap
        "2024-03-31 04:00:00+02:00",
    ]


def test_start_end_and_limit_bound_the_fires() -> None:
    start, end = ms("2024-01-01 00:00:10"), ms("2024-01-01 00:00:12")
    spec = cron("* * * * * *", start_at=start, end_at=end)
    assert next_fire(spec, ms("2024-01-01 00:00:00")) == start
    assert next_fire(spec, start) == start + 1000
    assert next_fire(spec, end) is None  # end_at itself may fire; nothing after it
    assert next_fire(spec, end - 1) == end
    limited = cron("* * * * * *", limit=3)
    assert next_fire(limited, start, fired=2) == start + 1000
    assert next_fire(limited, start, fired=3) is None


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("61 * * * *", "is not valid"),
        ("* * * *", "has 4 fields; use 5"),
        ("* * * * * * *", "has 7 fields"),
        ("", "has 0 fields"),
        ("@reboot", "alias '@reboot' is not supported"),
        ("0 0 30 2 *", "never matches"),
        ("a b c d e", "is not valid"),
    ],
)
def test_invalid_cron_says_why(expr: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        cron(expr)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0s", "under 1 second"),
        ("500ms", "not an interval"),
        ("5", "not an interval"),
        ("m", "not an interval"),
        ("", "not an interval"),
        ("1m30h", "not an interval"),
        ("400d", "over 366 days"),
    ],
)
def test_invalid_every_says_why(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_every(text)


def test_invalid_combinations_say_why() -> None:
    with pytest.raises(ScheduleError, match="exactly one of 'cron'"):
        build_spec(cron="* * * * *", every="5s")
    with pytest.raises(ScheduleError, match="exactly one of 'cron'"):
        build_spec(cron=None, every=None)
    with pytest.raises(ScheduleError, match="not a known IANA zone"):
        build_spec(cron="* * * * *", every=None, timezone="Mars/Olympus")
    with pytest.raises(ScheduleError, match="not a known IANA zone"):
        build_spec(cron="* * * * *", every=None, timezone="../etc/passwd")
    with pytest.raises(ScheduleError, match=r"end_at .* is before start_at"):
        build_spec(cron="* * * * *", every=None, start_at=2000, end_at=1000)
    with pytest.raises(ScheduleError, match="limit 0 must be at least 1"):
        build_spec(cron="* * * * *", every=None, limit=0)


def test_parse_cron_normalises_whitespace() -> None:
    assert parse_cron("  */5   *  * * *\t* ") == "*/5 * * * * *"


def test_times_are_ms_or_iso() -> None:
    assert parse_time(1_700_000_000_000, UTC, "start_at") == 1_700_000_000_000
    assert parse_time("2024-01-01T00:00:00Z", BERLIN, "start_at") == ms("2024-01-01 00:00:00")
    # No offset: read in the schedule's zone.
    assert parse_time("2024-01-01T01:00:00", BERLIN, "start_at") == ms("2024-01-01 00:00:00")
    with pytest.raises(ScheduleError, match="start_at 'tomorrow' is not a time"):
        parse_time("tomorrow", UTC, "start_at")
    with pytest.raises(ScheduleError, match="end_at True is not a time"):
        parse_time(True, UTC, "end_at")
