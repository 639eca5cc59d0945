"""Parsing of query values, ids and names (pure functions)."""

from __future__ import annotations

import time

import pytest

from streamfn.errors import ErrorCode
from streamfn.gateway import params
from streamfn.gateway.errors import ApiError


@pytest.mark.parametrize(
    ("raw", "value"),
    [("5", 5.0), ("0.25", 0.25), (".5", 0.5), ("300", 300), ("1e2", 100), ("2.5E-1", 0.25)],
)
def test_wait_accepts_plain_decimals(raw: str, value: float) -> None:
    assert params.wait(raw, 300) == value


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
        params.wait(raw, 300)
    assert info.value.code is ErrorCode.INVALID_PARAMETER
    assert "wait" in info.value.message


def test_delay_allows_zero_and_caps_at_366_days() -> None:
    assert params.delay("0") == 0
    assert params.delay(str(366 * 86400)) == 366 * 86400
    with pytest.raises(ApiError):
        params.delay(str(366 * 86400 + 1))


def test_at_parses_offsets_to_epoch_ms() -> None:
    assert params.at("2020-01-01T00:00:00Z") == 1577836800000
    assert params.at("2020-01-01T02:00:00+02:00") == 1577836800000
    assert params.at("2020-01-01T02:00:00 02:00") == 1577836800000  # '+' lost to the query
    assert params.at("2019-12-31T19:00:00-05:00") == 1577836800000
    assert params.at("2020-01-01T00:00:00.5Z") == 1577836800500
    assert params.at("2020-01-01t00:00:00z") == 1577836800000


@pytest.mark.parametrize(
    "raw", ["2030-01-01T00:00:00", "2030-01-01", "yesterday", "", "9999-12-31T23:59:59-14:00"]
)
def test_at_rejects(raw: str) -> None:
    with pytest.raises(ApiError) as info:
        params.at(raw)
    assert "at=" in info.value.message


def test_at_rejects_more_than_366_days_ahead() -> None:
    far = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 400 * 86400))
    with pytest.raises(ApiError):
        params.at(far)


@pytest.mark.parametrize(("raw", "value"), [(None, 100), ("1", 1), ("1000", 1000)])
def test_count(raw: str | None, value: int) -> None:
    assert params.count(raw, default=100, maximum=1000) == value


@pytest.mark.parametrize("raw", ["0", "1001", "-5", "1.0", "x", "9" * 5000, ""])
def test_count_rejects(raw: str) -> None:
    with pytest.raises(ApiError):
        params.count(raw, default=100, maximum=1000)


def test_names_and_ids() -> None:
    assert params.function_name("echo_2") == "echo_2"
    assert params.invocation_id("echo." + "a" * 24) == "echo." + "a" * 24
    with pytest.raises(ApiError) as info:
        params.function_name("Echo")
    assert info.value.code is ErrorCode.INVALID_FUNCTION_NAME
    with pytest.raises(ApiError) as info:
        params.invocation_id("echo.1")
    assert info.value.code is ErrorCode.INVALID_INVOCATION_ID
