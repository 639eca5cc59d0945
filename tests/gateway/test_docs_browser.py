"""GET /docs in a real browser: every operation of /openapi.json is on the page, rendered
from the gateway's own assets only."""

from __future__ import annotations

import re
from pathlib import Path

from streamfn.gateway.openapi import build_spec
from streamfn.settings import DEFAULTS
from tests.gateway.conftest import Client
from tests.support.browser import rendered_dom, screenshot


async def test_every_operation_is_rendered(client: Client, tmp_path: Path) -> None:
    url = str(client.make_url("/docs"))
    dom = await rendered_dom(url, tmp_path / "profile")
    spec = build_spec(DEFAULTS)
    expected = {op["operationId"] for item in spec["paths"].values() for op in item.values()}
    rendered = set(re.findall(r'data-operation="([^"]+)"', dom))
    assert rendered == expected
    count = re.search(r'<body data-rendered="(\d+)"', dom)
    assert count is not None and int(count.group(1)) == len(expected)
    assert spec["info"]["title"] in dom
    shot = await screenshot(url, tmp_path / "docs.png", tmp_path / "profile")
    assert shot.read_bytes().startswith(b"\x89PNG")
