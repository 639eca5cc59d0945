"""The auth matrix: every route of the route table, each with no token, a wrong one, a role
too weak and the right role, on a real gateway over a real Redis; then the invoker's pattern.

The cases are generated from ``ROUTES`` and ``ACCESS``, so a new route is in the matrix the
moment it is in the table (and a route missing from ``ACCESS`` stops the gateway: below).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from redis.asyncio import Redis

from streamfn.gateway.access import ACCESS, AccessTableError, access_of, check_table
from streamfn.gateway.app import create_app
from streamfn.gateway.contract import Route
from streamfn.gateway.models import InvocationPath
from streamfn.gateway.routes import ROUTES
from streamfn.keys import Keys
from streamfn.settings import Settings
from streamfn.tokens import Role, hash_token, token_line
from tests.gateway.conftest import Client, make_known, serving

SECRETS = {role: f"sfn_test_{role.label}" for role in Role}
"""One token per role, every function allowed, payload visibility as the role's default."""
MAILER = "sfn_test_mailer"
"""An invoker limited to ``email*``."""
SAMPLE_ID = "echo.0000000000000000000000ab"
SAMPLE_VALUES = {"fn": "echo", "id": "nightly"}
"""Path parameters by name; an invocation ``{id}`` takes SAMPLE_ID."""


def token_lines(extra: tuple[str, ...] = ()) -> str:
    lines = [token_line(role.label, role, hash_token(secret)) for role, secret in SECRETS.items()]
    lines.append(token_line("mailer", Role.INVOKER, hash_token(MAILER), "email*"))
    return ";".join([*lines, *extra])


def with_tokens(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, tokens=token_lines(), **changes)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def url_of(route: Route) -> str:
    """``route.path`` with every parameter filled with a value of the right form."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "id" and route.path_params is InvocationPath:
            return SAMPLE_ID
        return SAMPLE_VALUES.get(name, "echo")

    return re.sub(r"\{(\w+)\}", value, route.path)


async def call(client: Client, route: Route, headers: dict[str, str]) -> tuple[int, Any, Any]:
    body = b"{}" if route.body is not None else None
    async with client.request(route.method, url_of(route), headers=headers, data=body) as resp:
        text = await resp.read()
        return resp.status, resp.headers, text


@pytest.fixture
async def guarded(settings: Settings, redis: Redis, keys: Keys) -> AsyncIterator[Client]:
    """A gateway with tokens for every role and ``/metrics`` protected (every route but the
    open ones needs a token)."""
    await make_known(redis, keys, "echo", "slow", "email_send")
    async with serving(with_tokens(settings, metrics_auth=True)) as client:
        yield client


def required(route: Route, settings: Settings) -> Role | None:
    return access_of(route).required(settings)


ROUTE_IDS = [f"{r.method} {r.path}" for r in ROUTES]


def test_every_route_has_an_access_entry() -> None:
    check_table(ROUTES)
    assert {r.name for r in ROUTES} == set(ACCESS)


def test_a_route_missing_from_the_table_stops_the_gateway() -> None:
    extra = replace(ROUTES[0], name="brand_new", path="/brand-new")
    with pytest.raises(AccessTableError, match="brand_new"):
        check_table((*ROUTES, extra))
    with pytest.raises(AccessTableError, match="do not exist"):
        check_table(ROUTES[1:])


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
async def test_no_token(guarded: Client, settings: Settings, route: Route) -> None:
    status, headers, body = await call(guarded, route, {})
    if required(route, replace(settings, metrics_auth=True)) is None:
        assert status not in (401, 403) and status < 500, body
        return
    assert status == 401, body
    assert headers["WWW-Authenticate"] == 'Bearer realm="streamfn"'
    assert b'"code":"unauthorized"' in body
    assert b"Authorization: Bearer" in body


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize(
    "header", ["Bearer sfn_not_a_token", "Basic YWRtaW46YWRtaW4=", "Bearer", "bearer  "]
)
async def test_wrong_token(guarded: Client, settings: Settings, route: Route, header: str) -> None:
    status, headers, body = await call(guarded, route, {"Authorization": header})
    if required(route, replace(settings, metrics_auth=True)) is None:
        assert status not in (401, 403), body
        return
    assert status == 401, body
    assert headers["WWW-Authenticate"].startswith('Bearer realm="streamfn"')
    assert b'"code":"unauthorized"' in body


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
async def test_too_weak_a_role(guarded: Client, settings: Settings, route: Route) -> None:
    role = required(route, replace(settings, metrics_auth=True))
    if role is None or role is Role.VIEWER:
        pytest.skip("open, or viewer: no role is weaker")
    weaker = Role(role - 1)
    status, _, body = await call(guarded, route, bearer(SECRETS[weaker]))
    assert status == 403, body
    assert b'"code":"forbidden"' in body
    assert f"has role {weaker.label}".encode() in body
    assert f"needs {role.label} or above".encode() in body


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
async def test_the_right_role_and_every_higher_one(
    guarded: Client, settings: Settings, route: Route
) -> None:
    least = required(route, replace(settings, metrics_auth=True)) or Role.VIEWER
    for role in (r for r in Role if r >= least):
        status, _, body = await call(guarded, route, bearer(SECRETS[role]))
        assert status not in (401, 403), (role, body)
        assert status < 500, (role, body)


async def test_an_invoker_invokes_only_what_its_pattern_matches(guarded: Client) -> None:
    refused = await guarded.post("/invoke/echo", json=1, headers=bearer(MAILER))
    assert refused.status == 403
    error = (await refused.json())["error"]
    assert error["code"] == "forbidden"
    assert "'email*'" in error["message"] and "'echo'" in error["message"]
    accepted = await guarded.post("/invoke/email_send", json=1, headers=bearer(MAILER))
    assert accepted.status == 202
    # An invoker may read but not operate.
    location = accepted.headers["Location"]
    assert (await guarded.get(location, headers=bearer(MAILER))).status == 200
    assert (await guarded.delete(location, headers=bearer(MAILER))).status == 403
    assert (await guarded.delete(location, headers=bearer(SECRETS[Role.OPERATOR]))).status == 200


async def test_a_name_that_is_no_function_name_is_a_400_for_any_pattern(guarded: Client) -> None:
    for secret in (MAILER, SECRETS[Role.ADMIN]):
        response = await guarded.post("/invoke/Not-A-Name", json=1, headers=bearer(secret))
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "invalid_function_name"


async def test_metrics_are_open_unless_the_setting_protects_them(settings: Settings) -> None:
    async with serving(with_tokens(settings)) as client:
        assert (await client.get("/metrics")).status == 200
        assert (await client.get("/healthz")).status == 200
        assert (await client.get("/functions")).status == 401


async def test_no_tokens_on_loopback_means_no_auth(settings: Settings) -> None:
    async with serving(settings) as client:
        assert (await client.get("/functions")).status == 200
        spec = await (await client.get("/openapi.json")).json()
    assert "securitySchemes" not in spec["components"]
    assert spec["paths"]["/invoke/{fn}"]["post"]["x-streamfn-role"] == "invoker"


async def test_the_document_declares_the_bearer_scheme_and_each_requirement(
    guarded: Client, settings: Settings
) -> None:
    spec = await (await guarded.get("/openapi.json")).json()
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    cookie = spec["components"]["securitySchemes"]["session"]
    assert (cookie["type"], cookie["in"], cookie["name"]) == (
        "apiKey",
        "cookie",
        "streamfn_session",
    )
    for route in ROUTES:
        operation = spec["paths"][route.path][route.method.lower()]
        role = required(route, replace(settings, metrics_auth=True))
        assert operation["x-streamfn-role"] == ("none" if role is None else role.label)
        if role is None:
            assert operation["security"] == []
            assert ("401" in operation["responses"]) is (401 in route.errors)  # login's own
        else:
            assert operation["security"] == [{"bearer": []}, {"session": []}]
            assert "401" in operation["responses"]
            assert ("403" in operation["responses"]) is (role > Role.VIEWER)


def test_an_open_gateway_off_loopback_logs_a_warning(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(replace(settings, host="0.0.0.0", auth="open"))  # made, never bound
    assert isinstance(app, web.Application)
    assert any("STREAMFN_AUTH=open" in r.getMessage() for r in caplog.records)
    assert any(r.levelname == "WARNING" for r in caplog.records)
