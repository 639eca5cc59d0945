"""GET /openapi.json describes every route in the route table, and holds together."""

from __future__ import annotations

import re
from typing import Any

from streamfn.gateway.openapi import build_spec
from streamfn.gateway.routes import ROUTES
from streamfn.settings import DEFAULTS, Settings
from tests.gateway.conftest import Client


def resolve(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_every_route_is_described() -> None:
    spec = build_spec(DEFAULTS)
    for route in ROUTES:
        assert route.path in spec["paths"], route.path
        operation = spec["paths"][route.path].get(route.method.lower())
        assert operation is not None, f"{route.method} {route.path}"
        assert operation["operationId"] == route.name
        assert "200" in operation["responses"] or "202" in operation["responses"]


def test_nothing_is_described_that_is_not_routed() -> None:
    spec = build_spec(DEFAULTS)
    routed = {(r.method.lower(), r.path) for r in ROUTES}
    described = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert described == routed


def test_path_parameters_are_declared() -> None:
    spec = build_spec(DEFAULTS)
    for path, ops in spec["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for operation in ops.values():
            declared = {
                p["name"]
                for p in (
                    resolve(spec, x["$ref"]) if "$ref" in x else x
                    for x in operation.get("parameters", [])
                )
                if p["in"] == "path"
            }
            assert declared == names, path


def test_every_ref_resolves() -> None:
    spec = build_spec(DEFAULTS)
    for ref in refs(spec):
        assert resolve(spec, ref) is not None, ref


def test_limits_come_from_settings() -> None:
    from dataclasses import replace

    settings: Settings = replace(DEFAULTS, max_wait=42.0)
    wait = build_spec(settings)["components"]["parameters"]["Wait"]["schema"]
    assert wait["maximum"] == 42.0


async def test_served_at_openapi_json(client: Client) -> None:
    response = await client.get("/openapi.json")
    assert response.status == 200
    body = await response.json()
    assert body["openapi"].startswith("3.1")
    assert set(body["paths"]) == {r.path for r in ROUTES}
