"""GET /openapi.json describes every route in the route table, and holds together."""

from __future__ import annotations

import re
from typing import Any

from streamfn.errors import ErrorCode
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


def test_the_document_is_valid_openapi() -> None:
    from dataclasses import replace

    from openapi_spec_validator import validate

    validate(build_spec(DEFAULTS))
    validate(build_spec(replace(DEFAULTS, max_wait=7.5, max_body=10)))


def test_limits_and_patterns_come_from_the_declared_values() -> None:
    parameters = build_spec(DEFAULTS)["components"]["parameters"]
    assert parameters["Count"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 1000}
    assert parameters["Delay"]["schema"]["maximum"] == 366 * 86400
    key = parameters["IdempotencyKey"]
    assert (key["in"], key["schema"]["minLength"], key["schema"]["maxLength"]) == ("header", 1, 255)
    assert "86400 s" in key["description"]  # STREAMFN_IDEMPOTENCY_TTL, from the settings


def test_every_error_code_is_described() -> None:
    spec = build_spec(DEFAULTS)
    detail = spec["components"]["schemas"]["ErrorDetail"]
    assert detail["properties"]["code"]["enum"] == [c.code for c in ErrorCode]
    described = " ".join(r["description"] for r in spec["components"]["responses"].values())
    for code in ErrorCode:
        if code.status not in (405, 500):  # any route, any time: not listed per operation
            assert code.code in described, code


def _concrete(path: str) -> str:
    """``path`` with its ``{names}`` filled in with well-formed values."""
    filled = path.replace("{fn}", "echo").replace("{id}", "echo." + "0" * 24)
    return filled.replace("{name}", "docs.js")


async def test_each_route_accepts_exactly_the_query_parameters_it_documents(
    client: Client,
) -> None:
    """The handler's parameter Struct and the document's parameters are the same."""
    spec = build_spec(DEFAULTS)
    for route in ROUTES:
        if route.query is None:  # answers whatever the query (healthz, metrics, openapi)
            continue
        operation = spec["paths"][route.path][route.method.lower()]
        documented = sorted(
            p["name"]
            for p in (resolve(spec, x["$ref"]) for x in operation.get("parameters", []))
            if p["in"] == "query"
        )
        response = await client.request(route.method, _concrete(route.path) + "?zz_typo=1")
        body = await response.json()
        assert (response.status, body["error"]["code"]) == (400, "invalid_parameter"), route
        accepted = body["error"]["message"].rsplit("this route accepts: ", 1)[1]
        assert accepted == (", ".join(documented) or "none"), route.name
