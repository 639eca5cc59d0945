"""The browser session: ``POST /login`` sets an HttpOnly, SameSite=Strict cookie holding the
token, the cookie authenticates like the bearer header, and a state-changing request made with
it is refused without the session's CSRF token (header or form field)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from streamfn.gateway.app import create_app
from streamfn.keys import Keys
from streamfn.settings import Settings
from streamfn.tokens import Role
from tests.gateway.conftest import Client, make_known, serving
from tests.gateway.test_auth import SECRETS, token_lines
from tests.gateway.test_token_watch import eventually, line

OPERATOR = SECRETS[Role.OPERATOR]


@pytest.fixture
async def browser(settings: Settings, redis: Redis, keys: Keys) -> AsyncIterator[Client]:
    """A gateway with tokens, and a client that keeps cookies as a browser does."""
    await make_known(redis, keys, "echo")
    app = create_app(replace(settings, tokens=token_lines()))
    jar = aiohttp.CookieJar(unsafe=True)  # keep cookies of 127.0.0.1, an IP address
    async with TestClient(TestServer(app, host="127.0.0.1"), cookie_jar=jar) as client:
        yield client


async def login(client: Client, secret: str) -> str:
    response = await client.post("/login", json={"token": secret})
    assert response.status == 200, await response.text()
    return str((await response.json())["csrf"])


async def test_login_sets_an_httponly_samesite_strict_cookie(browser: Client) -> None:
    response = await browser.post("/login", json={"token": OPERATOR})
    assert response.status == 200
    body = await response.json()
    assert (body["name"], body["role"]) == ("operator", "operator")
    header = response.headers["Set-Cookie"]
    assert header.startswith("streamfn_session=")
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"):
        assert attribute in header
    assert "Secure" not in header  # plain HTTP here
    assert (await browser.get("/functions")).status == 200  # the cookie alone is enough


async def test_a_state_changing_request_needs_the_csrf_token(browser: Client) -> None:
    csrf = await login(browser, OPERATOR)
    refused = await browser.post("/schedules/nightly/pause")
    assert refused.status == 403
    error = (await refused.json())["error"]
    assert error["code"] == "forbidden" and "CSRF" in error["message"]
    wrong = await browser.post("/schedules/nightly/pause", headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status == 403
    allowed = await browser.post("/schedules/nightly/pause", headers={"X-CSRF-Token": csrf})
    assert allowed.status == 404  # past auth: there is no such schedule
    # A form post carries it as a field.
    form = await browser.post("/invoke/echo", data={"csrf": csrf, "x": "1"})
    assert form.status == 400  # past auth: a form is not a JSON payload
    bare = await browser.post("/invoke/echo", data={"x": "1"})
    assert bare.status == 403


async def test_the_bearer_header_needs_no_csrf_token(browser: Client) -> None:
    await login(browser, SECRETS[Role.VIEWER])  # the header wins over the cookie
    headers = {"Authorization": f"Bearer {OPERATOR}"}
    assert (await browser.post("/schedules/nightly/pause", headers=headers)).status == 404


async def test_the_role_still_decides(browser: Client) -> None:
    csrf = await login(browser, SECRETS[Role.VIEWER])
    response = await browser.delete("/functions/echo", headers={"X-CSRF-Token": csrf})
    assert response.status == 403
    assert "has role viewer" in (await response.json())["error"]["message"]


async def test_bad_logins(browser: Client, settings: Settings) -> None:
    response = await browser.post("/login", json={"token": "sfn_wrong"})
    assert response.status == 401
    assert "Set-Cookie" not in response.headers
    assert (await browser.post("/login", json={"nope": 1})).status == 400
    assert (await browser.post("/login", data=b"not json")).status == 400
    assert (await browser.post("/login", data={"token": OPERATOR})).status == 200  # a form
    async with serving(settings) as open_gateway:  # auth off: nothing to log in to
        assert (await open_gateway.post("/login", json={"token": OPERATOR})).status == 409


async def test_a_login_posted_by_another_site_is_refused(browser: Client) -> None:
    evil = await browser.post(
        "/login", data={"token": OPERATOR}, headers={"Origin": "https://evil.example"}
    )
    assert evil.status == 403
    assert "Set-Cookie" not in evil.headers
    ours = f"http://{browser.server.host}:{browser.server.port}"
    assert (
        await browser.post("/login", json={"token": OPERATOR}, headers={"Origin": ours})
    ).status == 200


async def test_logout_clears_the_cookie(browser: Client) -> None:
    await login(browser, OPERATOR)
    response = await browser.post("/logout")
    assert response.status == 200
    assert "Max-Age=0" in response.headers["Set-Cookie"]
    assert (await browser.get("/functions")).status == 401


async def test_revoking_the_token_ends_its_sessions(
    settings: Settings, redis: Redis, keys: Keys, tmp_path: Path
) -> None:
    await make_known(redis, keys, "echo")
    path = tmp_path / "tokens.toml"
    path.write_text(line("ci", OPERATOR))
    app = create_app(replace(settings, tokens_file=str(path)))
    jar = aiohttp.CookieJar(unsafe=True)
    async with TestClient(TestServer(app, host="127.0.0.1"), cookie_jar=jar) as client:
        await login(client, OPERATOR)
        assert (await client.get("/functions")).status == 200
        staged = path.with_suffix(".tmp")
        staged.write_text(line("other", "sfn_other"))
        os.replace(staged, path)

        async def refused() -> bool:
            return (await client.get("/functions")).status == 401

        await eventually(refused)
