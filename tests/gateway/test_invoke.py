"""POST /invoke/{fn}: accepting, waiting, scheduling, and every bad input as a 4xx."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from yarl import URL

from streamfn.gateway.envelope import ApiError
from streamfn.keys import Keys
from streamfn.settings import Settings
from tests.gateway.conftest import Client, raw_request, serving
from tests.gateway.fake_runner import FakeRunner


async def error_of(response: object) -> tuple[int, str, str]:
    body = await response.json()  # type: ignore[attr-defined]
    return response.status, body["error"]["code"], body["error"]["message"]  # type: ignore[attr-defined]


async def test_async_invoke_returns_202_with_location(
    client: Client, redis: Redis, keys: Keys
) -> None:
    response = await client.post("/invoke/echo", data=b'{"a":1}')
    assert response.status == 202
    body = await response.json()
    assert body["status"] == "queued"
    assert body["id"].startswith("echo.")
    assert response.headers["Location"] == f"/invocations/{body['id']}"
    assert response.headers["Content-Type"] == "application/json"
    stored = await redis.hget(keys.invocation("echo", body["id"]), "payload")
    assert stored == b'{"a":1}'  # stored as sent
    assert await redis.xlen(keys.stream("echo")) == 1


async def test_empty_body_is_a_null_payload(client: Client, redis: Redis, keys: Keys) -> None:
    response = await client.post("/invoke/echo")
    assert response.status == 202
    inv = (await response.json())["id"]
    assert await redis.hget(keys.invocation("echo", inv), "payload") == b"null"


@pytest.mark.parametrize("body", [b"1", b'"text"', b"[1,2]", b"null", b"true", b' {"x": 1} '])
async def test_any_json_value_is_a_payload(client: Client, body: bytes) -> None:
    response = await client.post("/invoke/echo", data=body)
    assert response.status == 202


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "text/plain", "application/octet-stream", "foo/bar"],
)
async def test_content_type_is_not_held_against_a_json_body(
    client: Client, content_type: str
) -> None:
    """curl -d sends form encoding by default; a JSON body is accepted whatever the label."""
    response = await client.post(
        "/invoke/echo", data=b'{"ok": true}', headers={"Content-Type": content_type}
    )
    assert response.status == 202
    response = await client.post(
        "/invoke/echo", data=b"a=1&b=2", headers={"Content-Type": content_type}
    )
    assert (await error_of(response))[:2] == (400, "invalid_json")


async def test_multipart_body_is_invalid_json(client: Client) -> None:
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("file", b"\x00\x01binary", filename="x.bin")
    response = await client.post("/invoke/echo", data=form)
    assert (await error_of(response))[:2] == (400, "invalid_json")


async def test_wait_returns_the_result(client: Client, runner: FakeRunner) -> None:
    runner.start("echo")
    response = await client.post("/invoke/echo?wait=5", json={"n": 7})
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "succeeded"
    assert body["result"] == {"echo": {"n": 7}}
    assert body["function"] == "echo"
    assert response.headers["Location"] == f"/invocations/{body['id']}"


async def test_wait_reports_a_failure(client: Client, runner: FakeRunner) -> None:
    async def finish_when_there() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if await runner.run_once(
                "echo", lambda p: (None, {"type": "E", "message": "no"}), mode="dead"
            ):
                return

    task = asyncio.create_task(finish_when_there())
    response = await client.post("/invoke/echo?wait=5", json=1)
    await task
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "dead"
    assert body["error"]["message"] == "no"
    assert "result" not in body


async def test_wait_times_out_with_202(client: Client) -> None:
    started = time.monotonic()
    response = await client.post("/invoke/slow?wait=0.3", json=None)
    assert 0.25 < time.monotonic() - started < 3
    assert response.status == 202
    body = await response.json()
    assert body["status"] == "queued"
    assert response.headers["Location"] == f"/invocations/{body['id']}"
    assert client.app is not None


async def test_wait_shows_running_when_a_runner_holds_it(
    client: Client, runner: FakeRunner
) -> None:
    async def claim_when_there() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not await runner.claim("slow", block_ms=50):
            pass

    task = asyncio.create_task(claim_when_there())
    response = await client.post("/invoke/slow?wait=0.5")
    await task
    assert response.status == 202
    assert (await response.json())["status"] == "running"


async def test_delay_schedules(client: Client, redis: Redis, keys: Keys) -> None:
    before = time.time() * 1000
    response = await client.post("/invoke/echo?delay=60", json={})
    assert response.status == 202
    body = await response.json()
    assert body["status"] == "scheduled"
    assert before + 59_000 < body["due_at"] < before + 62_000
    assert await redis.zscore(keys.timers("echo"), body["id"]) == body["due_at"]
    assert await redis.xlen(keys.stream("echo")) == 0


async def test_delay_zero_queues_now(client: Client) -> None:
    response = await client.post("/invoke/echo?delay=0")
    assert (await response.json())["status"] == "queued"


async def test_at_schedules_at_that_time(client: Client) -> None:
    when = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    response = await client.post("/invoke/echo", params={"at": when.isoformat()})
    body = await response.json()
    assert response.status == 202
    assert body["status"] == "scheduled"
    assert body["due_at"] == int(when.timestamp() * 1000)


@pytest.mark.parametrize("offset", ["Z", "+02:00", " 02:00", "-05:30"])
async def test_at_accepts_offsets_and_a_plus_lost_in_the_query(client: Client, offset: str) -> None:
    """An unencoded '+' arrives as a space; the gateway puts it back."""
    raw = "2099-01-01T00:00:00" + offset
    when = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
    raw = when + offset
    response = await client.post(URL(f"/invoke/echo?at={raw.replace(' ', '+')}", encoded=True))
    assert response.status == 202, await response.text()
    assert (await response.json())["status"] == "scheduled"


@pytest.mark.parametrize("when", ["2001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00"])
async def test_at_in_the_past_queues_now(client: Client, when: str) -> None:
    response = await client.post("/invoke/echo", params={"at": when})
    assert (await response.json())["status"] == "queued"


BAD_QUERIES = [
    ("wait=0", "wait"),
    ("wait=-1", "wait"),
    ("wait=abc", "wait"),
    ("wait=nan", "wait"),
    ("wait=NaN", "wait"),
    ("wait=inf", "wait"),
    ("wait=-inf", "wait"),
    ("wait=1e3", "wait"),
    ("wait=", "wait"),
    ("wait=301", "wait"),
    ("wait=1_0", "wait"),
    ("wait=%201", "wait"),
    ("wait=" + "9" * 400, "wait"),
    ("delay=-0.5", "delay"),
    ("delay=infinity", "delay"),
    ("delay=31622401", "delay"),
    ("delay=x", "delay"),
    ("at=tomorrow", "at"),
    ("at=2030-01-01T00:00:00", "at"),
    ("at=2030-01-01", "at"),
    ("at=2999-01-01T00:00:00Z", "at"),
    ("at=9999-12-31T23:59:59-14:00", "at"),
    ("at=" + "1" * 200, "at"),
    ("delay=1&at=2030-01-01T00:00:00Z", "delay"),
    ("dealy=5", "dealy"),
    ("wait=1&wait=2", "wait"),
    ("wait=1&x=1&y=2", "'x'"),
    ("%ff=1", "unknown query parameter"),
    ("wait=%ff", "wait"),
]


@pytest.mark.parametrize(("query", "named"), BAD_QUERIES)
async def test_bad_query_parameters_are_400_naming_them(
    client: Client, query: str, named: str
) -> None:
    response = await client.post(URL(f"/invoke/echo?{query}", encoded=True), json=1)
    status, code, message = await error_of(response)
    assert (status, code) == (400, "invalid_parameter")
    assert named in message


BAD_NAMES = [
    "Echo",
    "1echo",
    "_private",
    "a" * 65,
    "%2e%2e",
    "a%00",
    "a%2Fb",
    "%ff%fe",
    "%C3%A9cho",
    "echo%0A",
    "echo.py",
    "echo%20",
    "..%5C..",
]


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_bad_function_names_are_400(client: Client, name: str) -> None:
    response = await client.post(URL(f"/invoke/{name}", encoded=True), json=1)
    assert (await error_of(response))[:2] == (400, "invalid_function_name")


@pytest.mark.parametrize("path", ["/invoke/..", "/invoke/%7B%7D", "/invoke/", "/invoke/a/b"])
async def test_paths_the_route_does_not_match_are_404(client: Client, path: str) -> None:
    response = await client.post(URL(path, encoded=True))
    assert (await error_of(response))[:2] == (404, "not_found")


async def test_name_is_checked_before_size_and_json(client: Client) -> None:
    big = b"x" * (2 * 1024 * 1024)
    response = await client.post("/invoke/Bad", data=big)
    assert (await error_of(response))[:2] == (400, "invalid_function_name")


async def test_size_is_checked_before_json(client: Client) -> None:
    response = await client.post("/invoke/echo", data=b"{" * (1024 * 1024 + 1))
    assert (await error_of(response))[:2] == (413, "payload_too_large")


async def test_json_is_checked_before_the_catalog(client: Client) -> None:
    response = await client.post("/invoke/nosuch", data=b"{oops")
    assert (await error_of(response))[:2] == (400, "invalid_json")


@pytest.mark.parametrize(
    "body", [b"{oops", b"{'a': 1}", b"[1,", b"\xff\xfe", b"NaN", b"1 2", b"   ", b"\x00"]
)
async def test_malformed_json_is_400_with_the_parser_message(client: Client, body: bytes) -> None:
    response = await client.post("/invoke/echo", data=body)
    status, code, message = await error_of(response)
    assert (status, code) == (400, "invalid_json")
    assert "not valid JSON (" in message


async def test_unknown_function_is_404_saying_how_to_add_it(client: Client) -> None:
    response = await client.post("/invoke/nosuch", json=1)
    status, code, message = await error_of(response)
    assert (status, code) == (404, "unknown_function")
    assert "functions/nosuch.py" in message


@pytest.fixture
async def small(settings: Settings, known: tuple[str, ...]) -> AsyncIterator[Client]:
    async with serving(replace(settings, max_body=1000)) as client:
        yield client


async def test_content_length_over_the_limit_is_413(small: Client) -> None:
    response = await small.post("/invoke/echo", data=b"1" * 1001)
    status, code, message = await error_of(response)
    assert (status, code) == (413, "payload_too_large")
    assert "1000" in message
    response = await small.post("/invoke/echo", data=b'"' + b"x" * 998 + b'"')
    assert response.status == 202


async def test_chunked_body_over_the_limit_is_413(small: Client) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"1" * 100

    response = await small.post("/invoke/echo", data=chunks())
    assert (await error_of(response))[:2] == (413, "payload_too_large")


async def test_chunked_body_within_the_limit_is_read(small: Client) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"a":'
        yield b"1}"

    response = await small.post("/invoke/echo", data=chunks())
    assert response.status == 202


async def test_lying_content_length_is_not_a_5xx(small: Client) -> None:
    status, _ = await raw_request(
        small,
        b"POST /invoke/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n"
        b"Connection: close\r\n\r\n{}",
    )
    assert status == 413


@pytest.mark.parametrize(
    "request_line",
    [
        b"POST /invoke/\xff\xfe HTTP/1.1",
        b"POST /invoke/ech\xc3\xa9 HTTP/1.1",
        b"POST /invoke/echo?wait=\xff HTTP/1.1",
        b"POST /invoke/echo?\xff=1 HTTP/1.1",
        b"GET /invocations/\x00 HTTP/1.1",
        b"POST /invoke/%2e%2e/%2e%2e/etc/passwd HTTP/1.1",
        b"POST //invoke//echo HTTP/1.1",
        b"POST /invoke/echo?" + b"a=1&" * 1500 + b" HTTP/1.1",
        b"POST /invoke/echo?wait=" + b"9" * 7000 + b" HTTP/1.1",
        b"POST /invoke/echo?;;;&&&=== HTTP/1.1",
        b"POST http://evil.example/invoke/echo HTTP/1.1",
        b"BREW /invoke/echo HTTP/1.1",
    ],
)
async def test_odd_requests_are_never_a_5xx(client: Client, request_line: bytes) -> None:
    status, _ = await raw_request(
        client, request_line + b"\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    assert 400 <= status < 500 or status == 202


@pytest.mark.parametrize(
    "header",
    [b"", b"x" * 256, b"caf\xc3\xa9", b"tab\there", b"\x7f", b"line\x01"],
)
async def test_bad_idempotency_keys_are_400(client: Client, header: bytes) -> None:
    status, body = await raw_request(
        client,
        b"POST /invoke/echo HTTP/1.1\r\nHost: x\r\nIdempotency-Key: "
        + header
        + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    assert status == 400, body
    assert b"Idempotency-Key" in body


async def test_idempotency_key_twice_is_400(client: Client) -> None:
    status, body = await raw_request(
        client,
        b"POST /invoke/echo HTTP/1.1\r\nHost: x\r\nIdempotency-Key: a\r\nIdempotency-Key: b"
        b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    assert status == 400
    assert b"more than once" in body


async def test_rejections_never_hold_a_waiter(client: Client) -> None:
    from streamfn.gateway.state import CLIENT

    assert client.app is not None
    for _ in range(3):
        await client.post("/invoke/nosuch?wait=1")
    assert client.app[CLIENT].waiters.waiting == 0


def test_api_error_is_a_client_error() -> None:
    assert ApiError.__mro__[1].__name__ == "StreamfnError"
