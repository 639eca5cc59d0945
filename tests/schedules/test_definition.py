"""Request bodies and file declarations become checked definitions, or say what is wrong."""

from __future__ import annotations

from typing import Any

import pytest

from streamfn.names import function_of
from streamfn.schedules.definition import (
    SCHEDULE_ID_RE,
    Misfire,
    fire_invocation_id,
    parse_definition,
)
from streamfn.schedules.spec import ScheduleError


def test_a_full_body_is_parsed() -> None:
    d = parse_definition(
        {
            "id": "nightly-report.v2",
            "function": "echo",
            "cron": "0 3 * * *",
            "timezone": "Europe/Berlin",
            "payload": {"kind": "report"},
            "misfire": "catch_up",
            "catch_up_max": 5,
            "start_at": "2030-01-01T00:00:00",
            "end_at": 1_999_999_999_999,
            "limit": 10,
        }
    )
    assert d.id == "nightly-report.v2" and d.function == "echo"
    assert (d.spec.kind, d.spec.expr, d.spec.timezone) == ("cron", "0 3 * * *", "Europe/Berlin")
    assert d.payload == b'{"kind":"report"}'
    assert d.misfire == Misfire("catch_up", 5)
    assert d.spec.start_at == 1_893_452_400_000  # midnight in Berlin (+01:00)
    assert (d.spec.end_at, d.spec.limit, d.source) == (1_999_999_999_999, 10, "api")


def test_defaults_and_generated_id() -> None:
    a = parse_definition({"function": "echo", "every": "5m"})
    b = parse_definition({"function": "echo", "every": "5m"})
    assert a.id != b.id and SCHEDULE_ID_RE.fullmatch(a.id)
    assert a.misfire == Misfire("fire_once") and a.payload == b"null"
    assert a.spec.timezone == "UTC" and a.spec.interval_ms == 300_000


def test_digest_follows_the_definition_only() -> None:
    body: dict[str, Any] = {"id": "x", "function": "echo", "cron": "* * * * *"}
    same = parse_definition(dict(body)).digest()
    assert parse_definition(dict(body)).digest() == same
    assert parse_definition({**body, "payload": 1}).digest() != same
    assert parse_definition({**body, "misfire": "skip"}).digest() != same


def test_fire_invocation_ids_are_deterministic_and_valid() -> None:
    first = fire_invocation_id("echo", "nightly", 1_700_000_000_000)
    assert first == fire_invocation_id("echo", "nightly", 1_700_000_000_000)
    assert first != fire_invocation_id("echo", "nightly", 1_700_000_001_000)
    assert first != fire_invocation_id("echo", "nightly2", 1_700_000_000_000)
    assert function_of(first) == "echo"
    # The separator keeps ("a1", 23...) and ("a", 123...) apart.
    assert fire_invocation_id("echo", "a1", 23) != fire_invocation_id("echo", "a", 123)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"function": "echo", "cron": "* * * * *", "crn": 1}, "unknown field.*crn"),
        ({"cron": "* * * * *"}, "function None is not a function name"),
        ({"function": "Echo", "cron": "* * * * *"}, "function 'Echo' is not"),
        ({"function": "echo"}, "exactly one of 'cron'"),
        ({"function": "echo", "cron": 5}, "cron must be a string"),
        ({"function": "echo", "every": "1s", "misfire": "later"}, "misfire 'later' is not"),
        ({"function": "echo", "every": "1s", "catch_up_max": 3}, "only with misfire 'catch_up'"),
        (
            {"function": "echo", "every": "1s", "misfire": "catch_up", "catch_up_max": 0},
            "catch_up_max 0 must be from 1",
        ),
        ({"function": "echo", "every": "1s", "limit": "3"}, "limit must be a whole number"),
        ({"function": "echo", "every": "1s", "limit": 0}, "limit 0 must be at least 1"),
        ({"function": "echo", "every": "0s"}, "under 1 second"),
        ({"function": "echo", "every": "1s", "timezone": "Nowhere/Land"}, "IANA zone"),
        ({"function": "echo", "every": "1s", "start_at": 20, "end_at": 10}, "before start_at"),
        ({"function": "echo", "every": "1s", "id": "-bad"}, "schedule id '-bad' is not valid"),
        ({"function": "echo", "every": "1s", "id": "a" * 129}, "is not valid"),
        ({"function": "echo", "every": "1s", "id": "file.echo.1"}, "reserved for schedules"),
    ],
)
def test_invalid_bodies_say_why(body: dict[str, Any], message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        parse_definition(body)


def test_url_id_wins_and_must_agree_with_the_body() -> None:
    d = parse_definition({"function": "echo", "every": "1s"}, schedule_id="from-url")
    assert d.id == "from-url"
    with pytest.raises(ScheduleError, match="differs from the schedule id"):
        parse_definition({"id": "other", "function": "echo", "every": "1s"}, schedule_id="x")
