"""GET /invocations: one function's invocations from the index, and tags on POST /invoke."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from redis.asyncio import Redis

from streamfn.gateway.index_models import InvocationList
from streamfn.keys import Keys
from tests.gateway.conftest import Client
from tests.gateway.fake_runner import FakeRunner
from tests.gateway.test_invoke import error_of


def boom(payload: Any) -> tuple[Any, dict[str, str]]:
    return None, {"type": "ValueError", "message": "no"}


async def post(client: Client, path: str, **headers: str) -> str:
    response = await client.post(path, json=1, headers=headers)
    assert response.status == 202, await response.text()
    return str((await response.json())["id"])


async def page(client: Client, query: str) -> dict[str, Any]:
    response = await client.get(f"/invocations?{query}")
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    msgspec.convert(body, InvocationList)  # the documented shape
    return body


async def test_lists_newest_first_with_status_and_tags(
    client: Client, runner: FakeRunner, redis: Redis, keys: Keys
) -> None:
    a = await post(client, "/invoke/echo?tag=blue")
    b = await post(client, "/invoke/echo", **{"X-Tags": "red, green"})
    c = await post(client, "/invoke/echo?tag=red", **{"X-Tags": "red,blue"})
    await runner.run_once("echo")  # all three succeed

    d = await post(client, "/invoke/echo")
    await runner.finish("echo", await runner.claim("echo"), boom, mode="dead")
    e = await post(client, "/invoke/echo?delay=3600")
    f = await post(client, "/invoke/echo")
    await runner.claim("echo")  # f is running

    body = await page(client, "function=echo")
    assert [r["id"] for r in body["invocations"]] == sorted([f, e, d, c, b, a], reverse=True)
    assert body["next_cursor"] is None
    by_id = {r["id"]: r for r in body["invocations"]}
    assert [by_id[i]["status"] for i in (f, e, d, c)] == [
        "running",
        "scheduled",
        "dead",
        "succeeded",
    ]
    assert by_id[c]["tags"] == ["red", "blue"]
    assert by_id[b]["tags"] == ["red", "green"]
    assert by_id[d]["error"] == {"type": "ValueError", "message": "no"}

    red = await page(client, "function=echo&tag=red")
    assert [r["id"] for r in red["invocations"]] == sorted([c, b], reverse=True)
    assert [r["id"] for r in (await page(client, "function=echo&status=dead"))["invocations"]] == [
        d
    ]
    assert [
        r["id"]
        for r in (await page(client, "function=echo&status=succeeded&tag=blue"))["invocations"]
    ] == sorted([c, a], reverse=True)
    record = await (await client.get(f"/invocations/{c}")).json()
    assert record["tags"] == ["red", "blue"]


async def test_pages_follow_the_cursor_each_once(client: Client) -> None:
    ids = [await post(client, "/invoke/echo") for _ in range(7)]
    seen: list[str] = []
    query = "function=echo&limit=3"
    for _ in range(5):
        body = await page(client, query)
        seen += [r["id"] for r in body["invocations"]]
        await post(client, "/invoke/echo")  # arrives meanwhile: newer than any cursor
        if body["next_cursor"] is None:
            break
        query = f"function=echo&limit=3&cursor={body['next_cursor']}"
    assert seen == sorted(ids, reverse=True)  # by id: creation ms, then random bits


async def test_time_and_idempotency_filters(client: Client) -> None:
    first = await post(client, "/invoke/echo", **{"Idempotency-Key": "order-7"})
    second = await post(client, "/invoke/echo")
    by_key = await page(client, "function=echo&idempotency_key=order-7")
    assert [r["id"] for r in by_key["invocations"]] == [first]
    ms, first_ms = (int(i.split(".")[1][:12], 16) for i in (second, first))
    at = datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
    since = [r["id"] for r in (await page(client, f"function=echo&since={at}"))["invocations"]]
    assert since == sorted({second} | ({first} if first_ms >= ms else set()), reverse=True)
    until = [r["id"] for r in (await page(client, f"function=echo&until={at}"))["invocations"]]
    assert until == ([] if first_ms >= ms else [first])


async def test_a_function_with_no_invocations_lists_none(client: Client) -> None:
    assert await page(client, "function=nobody") == {
        "function": "nobody",
        "invocations": [],
        "next_cursor": None,
    }


@pytest.mark.parametrize(
    ("query", "code", "words"),
    [
        ("", "invalid_parameter", "function query parameter is required"),
        ("function=Echo", "invalid_function_name", "invalid function name"),
        ("function=echo&status=done", "invalid_parameter", "invalid status"),
        ("function=echo&limit=0", "invalid_parameter", "limit"),
        ("function=echo&limit=501", "invalid_parameter", "limit"),
        ("function=echo&cursor=nope", "invalid_parameter", "invalid cursor"),
        ("function=echo&cursor=slow." + "0" * 24, "invalid_parameter", "invalid cursor"),
        ("function=echo&tag=a:b", "invalid_parameter", "invalid tag"),
        ("function=echo&since=yesterday", "invalid_parameter", "RFC 3339"),
        ("function=echo&schedule=-x", "invalid_schedule_id", "invalid schedule id"),
        ("function=echo&colour=red", "invalid_parameter", "unknown query parameter"),
    ],
)
async def test_bad_filters_are_a_400_naming_them(
    client: Client, query: str, code: str, words: str
) -> None:
    status, got, message = await error_of(await client.get(f"/invocations?{query}"))
    assert (status, got) == (400, code)
    assert words in message


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/invoke/echo?tag=a:b", {}),
        ("/invoke/echo", {"X-Tags": "ok,no way"}),
        ("/invoke/echo", {"X-Tags": ",".join(f"t{i}" for i in range(9))}),
        ("/invoke/echo?tag=a,b,c,d,e", {"X-Tags": "f,g,h,i"}),  # 9 together
    ],
)
async def test_bad_tags_are_a_400_and_nothing_is_queued(
    client: Client, redis: Redis, keys: Keys, path: str, headers: dict[str, str]
) -> None:
    status, code, message = await error_of(await client.post(path, json=1, headers=headers))
    assert (status, code) == (400, "invalid_parameter")
    assert "tag" in message
    assert not await redis.exists(keys.stream("echo"))
