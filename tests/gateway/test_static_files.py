"""GET /docs and GET /static/{name}: the gateway's own page and assets, from its own table."""

from __future__ import annotations

import pytest

from streamfn.gateway.static_files import ASSETS, CSP, STATIC_DIR
from tests.gateway.conftest import Client


async def test_docs_is_a_page_whose_assets_the_gateway_serves(client: Client) -> None:
    response = await client.get("/docs")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Content-Security-Policy"] == CSP
    page = await response.text()
    for asset in ("/static/docs.js", "/static/docs.css"):
        assert asset in page
        served = await client.get(asset)
        assert served.status == 200, asset
        assert await served.read() == (STATIC_DIR / asset.rsplit("/", 1)[1]).read_bytes()
    assert "http://" not in page and "https://" not in page  # nothing from elsewhere


async def test_an_asset_has_its_type_and_an_etag_that_revalidates(client: Client) -> None:
    response = await client.get("/static/docs.js")
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    etag = response.headers["ETag"]
    again = await client.get("/static/docs.js", headers={"If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    css = await client.get("/static/docs.css")
    assert css.headers["Content-Type"].startswith("text/css")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/static/nothing.js", 404),  # well formed, not in the table
        ("/static/DOCS.JS", 400),
        ("/static/docs.py", 400),
        ("/static/..%2Fstatic_files.py", 400),
        ("/static/%2e%2e%2f%2e%2e%2fpyproject.toml", 400),
        ("/static/docs.js?x=1", 400),  # no query parameters
        ("/docs?page=2", 400),
    ],
)
async def test_names_outside_the_table_are_4xx_never_a_file(
    client: Client, path: str, status: int
) -> None:
    response = await client.get(path)
    assert response.status == status, await response.text()
    body = await response.json()
    assert body["error"]["code"] in ("not_found", "invalid_parameter")


def test_the_table_holds_every_page_file_and_nothing_else() -> None:
    files = {p.name for p in STATIC_DIR.iterdir() if p.is_file()}
    assert set(ASSETS) == files
    assert {"docs.html", "docs.js", "docs.css", "ui.html", "ui.js", "ui.css"} <= set(ASSETS)
