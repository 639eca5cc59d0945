"""Parsing of query values, ids and names against their declarations (no server)."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from streamfn.errors import ErrorCode
from streamfn.gateway import params
from streamfn.gateway.checks import checker
from streamfn.gateway.envelope import ApiError
from streamfn.gateway.models import DeadLettersQuery, InvokeQuery, WaitQuery
from streamfn.gateway.scalars import FunctionName, InvocationId
from streamfn.settings import DEFAULTS


def wait(raw: str, max_wait: float) -> float | None:
    settings = replace(DEFAULTS, max_wait=max_wait)
    return params.from_query(WaitQuery, {"wait": raw}, settings).wait


def delay(raw: str) -> float | None:
    return params.from_query(InvokeQuery, {"delay": raw}, DEFAULTS).delay


def at(raw: str) -> int:
    return params.from_query(InvokeQuery, {"at": raw}, DEFAULTS).at_ms


def count(raw: str | None) -> int:
    given = {"function": "echo"} if raw is None else {"function": "echo", "count": raw}
    return params.from_query(DeadLettersQuery, given, DEFAULTS).count


function_name = checker("fn", FunctionName)
invocation_id = checker("id", InvocationId)


@pytest.mark.parametrize(
    ("raw", "value"),
    [("5", 5.0), ("0.25", 0.25), (".5", 0.5), ("300", 300), ("1e2", 100), ("2.5E-1", 0.25)],
)
def test_wait_accepts_plain_decimals(raw: str, value: float) -> None:
    assert wait(raw, 300) == value


@pytest.mark.parametrize(
    "raw",
    [
        "0",
        "0.0",
        "-1",
        "301",
        "nan",
        "inf",
        "1e9",
        "1e999",
        "1e",
        "",
        " 1",
        "1 ",
        "0x10",
        "1_0",
        "\u0661",
    ],
)
def test_wait_rejects(raw: str) -> None:
    with pytest.raises(ApiError) as info:
        wait(raw, 300)
    assert info.value.code is ErrorCode.INVALID_PARAMETER
    assert "wait" in info.value.message


def test_delay_allows_zero_and_caps_at_366_days() -> None:
    assert delay("0") == 0
    assert delay(str(366 * 86400)) == 366 * 86400
    with pytest.raises(ApiError):
        delay(str(366 * 86400 + 1))


def test_at_parses_offsets_to_epoch_ms() -> None:
    assert at("2020-01-01T00:00:00Z") == 1577836800000
    assert at("2020-01-01T02:00:00+02:00") == 1577836800000
    assert at("2020-01-01T02:00:00 02:00") == 1577836800000  # '+' lost to the query
    assert at("2019-12-31T19:00:00-05:00") == 1577836800000
    assert at("2020-01-01T00:00:00.5Z") == 1577836800500
    assert at("2020-01-01t00:00:00z") == 1577836800000


@pytest.mark.parametrize(
    "raw", ["2030-01-01T00:00:00", "2030-01-01", "yesterday", "", "9999-12-31T23:59:59-14:00"]
)
def test_at_rejects(raw: str) -> None:
    with pytest.raises(ApiError) as info:
        at(raw)
    assert "at=" in info.value.message


def test_at_rejects_more_than_366_days_ahead() -> None:
    far = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 400 * 86400))
    with pytest.raises(ApiError):
        at(far)


@pytest.mark.parametrize(("raw", "value"), [(None, 100), ("1", 1), ("1000", 1000)])
def test_count(raw: str | None, value: int) -> None:
    assert count(raw) == value


@pytest.mark.parametrize("raw", ["0", "1001", "-5", "1.0", "x", "9" * 5000, ""])
def test_count_rejects(raw: str) -> None:
    with pytest.raises(ApiError):
        count(raw)


def test_names_and_ids() -> None:
    assert function_name("echo_2", None) == "echo_2"
    assert invocation_id("echo." + "a" * 24, None) == "echo." + "a" * 24
    with pytest.raises(ApiError) as info:
        function_name("Echo", None)
    assert info.value.code is ErrorCode.INVALID_FUNCTION_NAME
    with pytest.raises(ApiError) as info:
        invocation_id("echo.1", None)
    assert info.value.code is ErrorCode.INVALID_INVOCATION_ID
