"""The gateway's own routes: the browser session, health, metrics, the OpenAPI document and
the pages (``routes.py`` joins the parts of the route table in order)."""

from __future__ import annotations

from typing import Any

from streamfn.gateway import health, session, static_files
from streamfn.gateway.contract import Body, Reply, Route
from streamfn.gateway.models import AssetPath, Health, NoQuery
from streamfn.gateway.session_models import LoggedIn, LoggedOut, LoginBody, SessionCookie

SITE_ROUTES: tuple[Route, ...] = (
    Route(
        "POST",
        "/login",
        session.login,
        "login",
        "Start a browser session with a token (an HttpOnly, SameSite=Strict cookie)",
        {200: Reply(LoggedIn, "logged in: the cookie is set", SessionCookie)},
        errors=(400, 401, 409),
        query=NoQuery,
        body=Body(LoginBody, "the token (or a form field token)"),
    ),
    Route(
        "POST",
        "/logout",
        session.logout,
        "logout",
        "End the browser session (clears the cookie)",
        {200: Reply(LoggedOut, "the cookie is cleared", SessionCookie)},
        errors=(400,),
        query=NoQuery,
    ),
    Route(
        "GET",
        "/healthz",
        health.healthz,
        "healthz",
        "200 when Redis answers",
        {200: Reply(Health, "healthy")},
    ),
    Route(
        "GET",
        "/metrics",
        health.metrics,
        "metrics",
        "Prometheus metrics",
        {200: Reply(str, "text exposition", media_type="text/plain")},
    ),
    Route(
        "GET",
        "/openapi.json",
        health.openapi_json,
        "openapi",
        "This document",
        {200: Reply(dict[str, Any], "OpenAPI 3.1")},
    ),
    Route(
        "GET",
        "/ui",
        static_files.ui_page,
        "ui",
        "The dashboard",
        {200: Reply(str, "the page", media_type="text/html")},
        query=NoQuery,
    ),
    Route(
        "GET",
        "/docs",
        static_files.docs_page,
        "docs",
        "This document, rendered as a page",
        {200: Reply(str, "the page", media_type="text/html")},
        query=NoQuery,
    ),
    Route(
        "GET",
        "/static/{name}",
        static_files.static_asset,
        "static_asset",
        "An asset of the gateway's pages",
        {200: Reply(str, "the asset (script, style or image)", media_type="text/plain")},
        errors=(400, 404),
        path_params=AssetPath,
        query=NoQuery,
    ),
)
