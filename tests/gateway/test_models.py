"""Real answers of every route match the models the route table declares for their status,
and the schema the OpenAPI document gives for them.

Each body is converted to the declared model (types, required fields, bounds), checked for
keys the model does not declare (so a field added to ``to_json`` without its model fails
here), and validated against the document's schema (enums included); declared response
headers must be present.
"""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import ClientResponse
from jsonschema import Draft202012Validator
from msgspec import inspect

from streamfn.gateway.contract import ERRORS, Reply
from streamfn.gateway.openapi import build_spec
from streamfn.gateway.routes import ROUTES
from streamfn.settings import DEFAULTS
from tests.gateway.conftest import Client
from tests.gateway.fake_runner import FakeRunner
from tests.gateway.test_dead_letters import kill
from tests.gateway.test_invocations import MISSING

BY_NAME = {route.name: route for route in ROUTES}
SPEC = build_spec(DEFAULTS)


def documented(name: str, status: int) -> dict[str, Any]:
    """The JSON Schema the document gives for route ``name``'s ``status`` answer."""
    route = BY_NAME[name]
    answer = SPEC["paths"][route.path][route.method.lower()]["responses"][str(status)]
    if "$ref" in answer:
        answer = SPEC["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    return {**answer["content"]["application/json"]["schema"], "components": SPEC["components"]}


def undeclared(value: Any, node: inspect.Type, at: str = "$") -> list[str]:
    """Keys of ``value`` that the type ``node`` does not declare, as JSON paths."""
    if isinstance(node, inspect.StructType) and isinstance(value, dict):
        fields = {f.encode_name: f.type for f in node.fields}
        found = [f"{at}.{k}" for k in value if k not in fields]
        return found + [
            p
            for k, v in value.items()
            if k in fields
            for p in undeclared(v, fields[k], f"{at}.{k}")
        ]
    if isinstance(node, inspect.ListType) and isinstance(value, list):
        return [p for i, v in enumerate(value) for p in undeclared(v, node.item_type, f"{at}[{i}]")]
    if isinstance(node, inspect.UnionType):
        return min((undeclared(value, t, at) for t in node.types), key=len)
    return []


async def conforms(
    name: str, response: ClientResponse, *, extra: frozenset[str] = frozenset()
) -> Any:
    """The body of ``response`` (from route ``name``), checked against the declared reply."""
    route = BY_NAME[name]
    reply: Reply = route.replies.get(response.status) or ERRORS[response.status][1]
    assert response.status in route.replies or response.status in (*route.errors, 503), (
        name,
        response.status,
    )
    body = await response.json()
    msgspec.convert(body, reply.model)
    Draft202012Validator(documented(name, response.status)).validate(body)
    assert not undeclared(body, inspect.type_info(reply.model)), (name, body)
    if reply.headers is not None:
        for field in msgspec.structs.fields(reply.headers):
            if field.required:
                assert field.encode_name in response.headers, (name, field.encode_name)
    return body


async def test_invocation_routes(client: Client, runner: FakeRunner) -> None:
    queued = await conforms("invoke", await client.post("/invoke/echo", json={"a": 1}))
    later = await conforms("invoke", await client.post("/invoke/echo?delay=60"))
    assert "due_at" in later
    await conforms("get_invocation", await client.get(f"/invocations/{queued['id']}"))
    (entry,) = await runner.claim("echo")
    running = await conforms("get_invocation", await client.get(f"/invocations/{queued['id']}"))
    assert running["deliveries"] == 1
    await conforms("cancel_invocation", await client.delete(f"/invocations/{queued['id']}"))
    await runner.finish("echo", [entry])
    done = await conforms("get_invocation", await client.get(f"/invocations/{queued['id']}"))
    assert "result" in done
    await conforms("cancel_invocation", await client.delete(f"/invocations/{queued['id']}"))
    await conforms("cancel_invocation", await client.delete(f"/invocations/{later['id']}"))
    runner.start("echo")
    await conforms("invoke", await client.post("/invoke/echo?wait=5", json=2))
    keyed = {"Idempotency-Key": "k-1"}
    await conforms("invoke", await client.post("/invoke/echo?wait=5", json=3, headers=keyed))
    await conforms("invoke", await client.post("/invoke/echo", json=3, headers=keyed))


async def test_errors(client: Client) -> None:
    await conforms("invoke", await client.post("/invoke/nosuch"))
    await conforms("invoke", await client.post("/invoke/Bad"))
    await conforms("invoke", await client.post("/invoke/echo?wait=0"))
    await conforms("get_invocation", await client.get(f"/invocations/{MISSING}"))
    await conforms("get_schedule", await client.get("/schedules/-x"))


async def test_functions_dead_letters_and_health(client: Client, runner: FakeRunner) -> None:
    await conforms("list_functions", await client.get("/functions"))
    (inv,) = await kill(client, runner, "x")
    letters = await conforms("list_dead_letters", await client.get("/dead-letters?function=echo"))
    assert letters["dead_letters"]
    await conforms("replay", await client.post(f"/dead-letters/{inv}/replay"))
    await conforms("replay", await client.post(f"/dead-letters/{inv}/replay"))  # 409
    await conforms("healthz", await client.get("/healthz"))


async def test_schedule_routes(client: Client) -> None:
    body = {"function": "echo", "every": "1m", "misfire": "catch_up", "catch_up_max": 3}
    created = await conforms("create_schedule", await client.post("/schedules", json=body))
    sid = created["id"]
    cron = {"function": "echo", "cron": "0 3 * * *", "start_at": 1, "limit": 5}
    await conforms("put_schedule", await client.put(f"/schedules/{sid}", json=cron))
    await conforms("put_schedule", await client.put("/schedules/other", json=cron))
    await conforms("get_schedule", await client.get(f"/schedules/{sid}"))
    await conforms("list_schedules", await client.get("/schedules?function=echo"))
    await conforms("pause_schedule", await client.post(f"/schedules/{sid}/pause"))
    await conforms("resume_schedule", await client.post(f"/schedules/{sid}/resume"))
    await conforms("delete_schedule", await client.delete(f"/schedules/{sid}"))
    await conforms("create_schedule", await client.post("/schedules", json={"function": "echo"}))


def test_the_schedule_definition_model_has_the_fields_the_parser_accepts() -> None:
    """parse_definition (shared with file schedules) checks the body; the model describes it."""
    from streamfn.gateway.schedule_models import ScheduleDefinition
    from streamfn.schedules.definition import FIELDS

    assert {f.encode_name for f in msgspec.structs.fields(ScheduleDefinition)} == FIELDS
