"""DST in Europe/Berlin with injected instants: no sleeping, no host clock.

Spring forward (2024-03-31, 02:00 CET -> 03:00 CEST): a wall time inside the gap fires once at
the first instant after it (03:00 CEST).  Fall back (2024-10-27, 03:00 CEST -> 02:00 CET): a
repeated wall time fires once, at its first occurrence (CEST).
"""

from __future__ import annotations

from datetime import datetime

from streamfn.schedules.spec import Spec, build_spec, next_fire
from streamfn.schedules.wallclock import resolve
from tests.schedules.helpers import BERLIN, ms, wall


def berlin(expr: str) -> Spec:
    return build_spec(cron=expr, every=None, timezone="Europe/Berlin")


def walk(spec: Spec, after: int, until: int) -> list[str]:
    out: list[str] = []
    at = next_fire(spec, after)
    while at is not None and at <= until:
        out.append(wall(at, BERLIN))
        at = next_fire(spec, at)
    return out


def test_spring_forward_daily_time_in_the_gap_fires_once_at_gap_end() -> None:
    spec = berlin("30 2 * * *")
    walls = walk(spec, ms("2024-03-29 12:00:00", BERLIN), ms("2024-04-02 00:00:00", BERLIN))
    assert walls == [
        "2024-03-30 02:30:00+01:00",
        "2024-03-31 03:00:00+02:00",  # 02:30 does not exist: first instant after the gap
        "2024-04-01 02:30:00+02:00",
    ]


def test_spring_forward_times_inside_the_gap_collapse_into_one_fire() -> None:
    spec = berlin("*/20 * * * *")
    walls = walk(spec, ms("2024-03-31 01:30:00", BERLIN), ms("2024-03-31 03:40:00", BERLIN))
    assert walls == [
        "2024-03-31 01:40:00+01:00",
        "2024-03-31 03:00:00+02:00",  # 02:00, 02:20, 02:40 and 03:00 are one fire
        "2024-03-31 03:20:00+02:00",
        "2024-03-31 03:40:00+02:00",
    ]


def test_spring_forward_every_second_has_no_hole_and_no_double() -> None:
    spec = berlin("* * * * * *")
    before = ms("2024-03-31 01:59:58", BERLIN)
    walls = walk(spec, before, before + 4000)
    assert walls == [
        "2024-03-31 01:59:59+01:00",
        "2024-03-31 03:00:00+02:00",
        "2024-03-31 03:00:01+02:00",
        "2024-03-31 03:00:02+02:00",  # four seconds of real time, four fires
    ]


def test_fall_back_daily_time_fires_once_at_first_occurrence() -> None:
    spec = berlin("30 2 * * *")
    walls = walk(spec, ms("2024-10-26 12:00:00", BERLIN), ms("2024-10-28 12:00:00", BERLIN))
    assert walls == [
        "2024-10-27 02:30:00+02:00",  # CEST, the first 02:30; the CET 02:30 does not fire
        "2024-10-28 02:30:00+01:00",
    ]


def test_fall_back_repeated_hour_is_silent_in_its_second_pass() -> None:
    spec = berlin("*/20 * * * *")
    after = ms("2024-10-27 01:50:00", BERLIN)
    walls = walk(spec, after, ms("2024-10-27 03:20:00", BERLIN))
    assert walls == [
        "2024-10-27 02:00:00+02:00",
        "2024-10-27 02:20:00+02:00",
        "2024-10-27 02:40:00+02:00",
        "2024-10-27 03:00:00+01:00",  # 02:00-02:40 CET already fired as CEST
        "2024-10-27 03:20:00+01:00",
    ]


def test_fall_back_asked_from_inside_the_second_pass() -> None:
    spec = berlin("* * * * * *")
    inside = ms("2024-10-27 02:30:00", BERLIN, fold=1)  # 02:30 CET, the second pass
    at = next_fire(spec, inside)
    assert at is not None and wall(at, BERLIN) == "2024-10-27 03:00:00+01:00"


def test_fall_back_hourly_fires_every_distinct_wall_hour_once() -> None:
    spec = berlin("0 * * * *")
    walls = walk(spec, ms("2024-10-27 00:30:00", BERLIN), ms("2024-10-27 04:00:00", BERLIN))
    assert walls == [
        "2024-10-27 01:00:00+02:00",
        "2024-10-27 02:00:00+02:00",
        "2024-10-27 03:00:00+01:00",
        "2024-10-27 04:00:00+01:00",
    ]


def test_resolve_reports_the_repeated_span() -> None:
    at, repeat_end = resolve(datetime(2024, 10, 27, 2, 15), BERLIN)
    assert wall(at, BERLIN) == "2024-10-27 02:15:00+02:00"
    assert repeat_end == datetime(2024, 10, 27, 3, 0)
    at, repeat_end = resolve(datetime(2024, 3, 31, 2, 15), BERLIN)
    assert wall(at, BERLIN) == "2024-03-31 03:00:00+02:00" and repeat_end is None
    at, repeat_end = resolve(datetime(2024, 6, 1, 12, 0), BERLIN)
    assert wall(at, BERLIN) == "2024-06-01 12:00:00+02:00" and repeat_end is None
