"""The gateway's errors: one JSON envelope for every error, 503 for Redis, 500 with no trace.

Raised through the real app (``create_app``, so its one middleware), with two routes added
for the tests: one raising each error, one echoing a body (the app's body limit set to 10).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from redis.exceptions import (
    BusyLoadingError,
    ConnectionError,
    DataError,
    MasterDownError,
    ReadOnlyError,
    ResponseError,
    TimeoutError,
    TryAgainError,
)

from streamfn.errors import ErrorCode
from streamfn.gateway.app import create_app
from streamfn.gateway.envelope import ApiError, is_redis_unavailable
from streamfn.settings import Settings
from tests.gateway.conftest import Client

RAISED: dict[str, BaseException] = {
    "connection": ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused."),
    "timeout": TimeoutError("Timeout reading from socket"),
    "loading": BusyLoadingError("Redis is loading the dataset in memory"),
    "readonly": ReadOnlyError("You can't write against a read only replica."),
    "masterdown": MasterDownError("Link with MASTER is down"),
    "loading_raw": ResponseError("LOADING Redis is loading the dataset in memory"),
    "readonly_raw": ResponseError("READONLY You can't write against a read only replica."),
    "masterdown_raw": ResponseError("MASTERDOWN Link with MASTER is down"),
    "tryagain": TryAgainError("Multiple keys request during rehashing of slot"),
    "script_bug": ResponseError("ERR user_script:1: attempt to index a nil value"),
    "data": DataError("Invalid input of type: 'NoneType'"),
    "bug": ZeroDivisionError("division by zero"),
    "api": ApiError(ErrorCode.CONFLICT, "nope", status="running"),
}


async def raising(request: web.Request) -> web.Response:
    raise RAISED[request.match_info["what"]]


@pytest.fixture
async def app_client(settings: Settings) -> AsyncIterator[Client]:
    app = create_app(replace(settings, max_body=10))
    app.router.add_get("/raise/{what}", raising)

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    app.router.add_post("/echo", echo)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


@pytest.mark.parametrize(
    "what",
    [
        "connection",
        "timeout",
        "loading",
        "readonly",
        "masterdown",
        "loading_raw",
        "readonly_raw",
        "masterdown_raw",
        "tryagain",
    ],
)
async def test_redis_unavailable_is_503(app_client: Client, what: str) -> None:
    response = await app_client.get(f"/raise/{what}")
    assert response.status == 503
    body = await response.json()
    assert body["error"]["code"] == "redis_unavailable"
    assert response.headers["Retry-After"] == "1"


@pytest.mark.parametrize("what", ["script_bug", "data", "bug"])
async def test_unexpected_is_500_without_a_traceback(
    app_client: Client, what: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="streamfn.gateway"):
        response = await app_client.get(f"/raise/{what}")
    assert response.status == 500
    body = await response.json()
    assert body == {
        "error": {
            "code": "internal_error",
            "message": "internal error; the gateway log has the details",
        }
    }
    assert any(r.exc_info for r in caplog.records)  # the log has the traceback


async def test_api_error_carries_extra_fields(app_client: Client) -> None:
    response = await app_client.get("/raise/api")
    assert response.status == 409
    assert await response.json() == {
        "error": {"code": "conflict", "message": "nope", "status": "running"}
    }


async def test_unknown_route_and_method(app_client: Client) -> None:
    response = await app_client.get("/nothing")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"
    response = await app_client.delete("/echo")
    assert response.status == 405
    assert (await response.json())["error"]["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "POST"


async def test_body_over_client_max_size_is_our_413(app_client: Client) -> None:
    response = await app_client.post("/echo", data=b"x" * 11)
    assert response.status == 413
    body = await response.json()
    assert body["error"]["code"] == "payload_too_large"
    assert "STREAMFN_MAX_BODY" in body["error"]["message"]


def test_is_redis_unavailable() -> None:
    assert is_redis_unavailable(ConnectionError())
    assert is_redis_unavailable(ResponseError("READONLY x"))
    assert not is_redis_unavailable(ResponseError("ERR wrong number of arguments"))
    assert not is_redis_unavailable(ValueError("LOADING"))


@pytest.mark.parametrize("method", ["PUT", "PATCH", "GET"])
async def test_gateway_wrong_method_is_405(client: Client, method: str) -> None:
    response = await client.request(method, "/invoke/echo")
    assert response.status == 405
    body = await response.json()
    assert body["error"]["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "POST"
