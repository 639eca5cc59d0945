"""The gateway's own pages and their assets: ``GET /ui`` (the dashboard), ``GET /docs`` and
``GET /static/{name}``.

Assets live in ``gateway/static/`` and are read once, when the app is made: a request names an
asset, which is looked up in that table, so no part of a URL ever reaches the filesystem.
Nothing is fetched from elsewhere (the pages work air-gapped), and every page is served with a
Content-Security-Policy that allows only this gateway's own scripts, styles and requests.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from streamfn.errors import ErrorCode
from streamfn.gateway import params
from streamfn.gateway.envelope import error_response, show
from streamfn.gateway.models import AssetPath, NoQuery
from streamfn.gateway.state import SETTINGS

STATIC_DIR = Path(__file__).resolve().parent / "static"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


def load_assets(directory: Path = STATIC_DIR) -> dict[str, Asset]:
    """Every file of ``directory`` with a known type, by name."""
    assets: dict[str, Asset] = {}
    for file in sorted(directory.iterdir()):
        kind = TYPES.get(file.suffix)
        if kind is None or not file.is_file():
            continue
        body = file.read_bytes()
        assets[file.name] = Asset(body, kind, '"' + hashlib.sha256(body).hexdigest()[:16] + '"')
    return assets


ASSETS = load_assets()


def _serve(request: web.Request, asset: Asset) -> web.Response:
    headers = {**PAGE_HEADERS, "ETag": asset.etag, "Cache-Control": "no-cache"}
    if request.headers.get("If-None-Match") == asset.etag:
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = asset.content_type
    return web.Response(body=asset.body, headers=headers)


async def docs_page(request: web.Request) -> web.Response:
    """The API reference: this gateway's /openapi.json rendered in the browser, with a form
    to try each operation; its script and style are served by this gateway."""
    params.query(request, NoQuery, request.app[SETTINGS])
    return _serve(request, ASSETS["docs.html"])


async def ui_page(request: web.Request) -> web.Response:
    """The dashboard: functions, their invocations, dead letters and schedules, runners; a
    static page whose script reads this gateway's JSON API (with the caller's session)."""
    params.query(request, NoQuery, request.app[SETTINGS])
    return _serve(request, ASSETS["ui.html"])


async def static_asset(request: web.Request) -> web.Response:
    """One of the gateway's own page assets (scripts, styles, images), by name."""
    name = params.path(request, AssetPath).name
    params.query(request, NoQuery, request.app[SETTINGS])
    asset = ASSETS.get(name)
    if asset is None:
        return error_response(ErrorCode.NOT_FOUND, f"no asset named {show(name)}")
    return _serve(request, asset)
