"""The OpenAPI 3.1 document, generated from the route table and the models it names.

msgspec writes the schema of every body (``components/schemas``); path, query and header
parameters come from the fields of each route's parameter Structs, so their bounds, patterns
and descriptions are the ones :mod:`.params` checks.  Limits that are settings (``?wait=``
maximum, body size, the Idempotency-Key TTL) come from the running gateway's settings, and
so does security: with auth on, the bearer scheme and each operation's requirement, with the
role it needs (``gateway/access.py``) as ``x-streamfn-role`` whether auth is on or not.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import msgspec
from msgspec import Struct

from streamfn.errors import ErrorCode
from streamfn.gateway.access import access_of
from streamfn.gateway.checks import bare, declared
from streamfn.gateway.contract import ERRORS, Reply, Route
from streamfn.gateway.csrf import COOKIE
from streamfn.gateway.routes import ROUTES
from streamfn.settings import Settings
from streamfn.tokens import Role

Spec = dict[str, Any]
REF = "#/components/schemas/{name}"
BEARER = "bearer"
SESSION = "session"


class _Settings(dict[str, Any]):
    """Setting values by field name for ``str.format_map``; other ``{names}`` stay as text."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _markdown(docstring: str) -> str:
    """A docstring as a one-paragraph CommonMark description."""
    return " ".join(docstring.replace("``", "`").split())


def _described(text: str, settings: _Settings) -> str:
    return text.format_map(settings) if "{" in text else text


def _parameters(
    model: type[Struct] | None, where: str, settings: _Settings
) -> list[tuple[str, Spec]]:
    """The title of each field's value, and its parameter object."""
    out = []
    for field in msgspec.structs.fields(model) if model is not None else ():
        schema = msgspec.json.schema(bare(field.type))
        meta = declared(field.type)[1]
        schema.pop("title", None)
        description = schema.pop("description", "")
        setting = (meta.extra or {}).get("maximum")
        if setting is not None:
            schema["maximum"] = settings[setting]
        parameter: Spec = {"name": field.encode_name, "in": where}
        if field.required or where == "path":
            parameter["required"] = True
        if description:
            parameter["description"] = _described(description, settings)
        out.append((meta.title or field.name, {**parameter, "schema": schema}))
    return out


def _content(schema: Spec, media_type: str = "application/json") -> Spec:
    return {media_type: {"schema": schema}}


class _Builder:
    """Collects the models of every route, then writes the document."""

    def __init__(self, routes: tuple[Route, ...], settings: Settings, enforced: bool) -> None:
        self.routes = routes
        self.enforced = enforced
        self.raw_settings = settings
        self.settings = _Settings(dataclasses.asdict(settings))
        models: list[Any] = [reply.model for _, reply in ERRORS.values()]
        for route in routes:
            models += [reply.model for reply in route.replies.values()]
            models += [route.body.model] if route.body is not None else []
        schemas, self.components = msgspec.json.schema_components(models, ref_template=REF)
        for component in self.components.values():  # a Struct's docstring
            if "description" in component:
                component["description"] = _markdown(component["description"])
        self.schema = dict(zip(map(id, models), schemas, strict=True))
        self.parameters: dict[str, Spec] = {}

    def _ref(self, model: Any) -> Spec:
        return dict(self.schema[id(model)])

    def _reply(self, reply: Reply) -> Spec:
        out: Spec = {
            "description": _described(reply.description, self.settings),
            "content": _content(self._ref(reply.model), reply.media_type),
        }
        if reply.headers is not None:
            out["headers"] = {
                p.pop("name"): {k: v for k, v in p.items() if k != "in"}
                for _, p in _parameters(reply.headers, "header", self.settings)
            }
        return out

    def _parameter_ref(self, title: str, parameter: Spec) -> Spec:
        """``parameter`` as a component named by its value's title (qualified if it varies)."""
        name = title
        if self.parameters.get(name, parameter) != parameter:
            name += parameter["in"].title()
        if self.parameters.get(name, parameter) != parameter:
            name += "Required" if parameter.get("required") else "Optional"
        self.parameters[name] = parameter
        return {"$ref": f"#/components/parameters/{name}"}

    def operation(self, route: Route) -> Spec:
        parameters = [
            *_parameters(route.path_params, "path", self.settings),
            *_parameters(route.query, "query", self.settings),
            *_parameters(route.headers, "header", self.settings),
        ]
        replies = {str(status): self._reply(reply) for status, reply in route.replies.items()}
        role = access_of(route).required(self.raw_settings)
        for status in (*self._auth_errors(role), *route.errors, 503):
            replies[str(status)] = {"$ref": f"#/components/responses/{ERRORS[status][0]}"}
        out: Spec = {"operationId": route.name, "summary": route.summary}
        out["x-streamfn-role"] = "none" if role is None else role.label
        if self.enforced:
            out["security"] = [] if role is None else [{BEARER: []}, {SESSION: []}]
        doc = inspect.getdoc(route.handler)
        if doc:
            out["description"] = _markdown(doc)
        if parameters:
            out["parameters"] = [self._parameter_ref(*p) for p in parameters]
        if route.body is not None:
            out["requestBody"] = {
                "required": route.body.required,
                "description": route.body.description,
                "content": _content(self._ref(route.body.model)),
            }
        out["responses"] = replies
        return out

    def _auth_errors(self, role: Role | None) -> tuple[int, ...]:
        if not self.enforced or role is None:
            return ()
        return (401,) if role is Role.VIEWER else (401, 403)  # viewer is the lowest role

    def document(self) -> Spec:
        paths: dict[str, Spec] = {}
        for route in self.routes:
            paths.setdefault(route.path, {})[route.method.lower()] = self.operation(route)
        responses = {}
        for status, (name, reply) in ERRORS.items():
            codes = ", ".join(c.code for c in ErrorCode if c.status == status)
            responses[name] = self._reply(reply)
            responses[name]["description"] += f" (error.code: {codes})"
        components: Spec = {
            "schemas": self.components,
            "parameters": self.parameters,
            "responses": responses,
        }
        if self.enforced:
            components["securitySchemes"] = {
                BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token of the gateway's tokens file (docs/auth.md); "
                    "x-streamfn-role on each operation is the least role it needs",
                },
                SESSION: {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": COOKIE,
                    "description": "the browser session of POST /login; a POST, PUT or "
                    "DELETE made with it also sends its X-CSRF-Token",
                },
            }
        return {
            "openapi": "3.1.0",
            "info": {
                "title": "streamfn gateway",
                "version": "0.1.0",
                "description": "Invoke functions over Redis Streams.  Every error is "
                '{"error": {"code", "message"}}.',
            },
            "paths": paths,
            "components": components,
        }


def build_spec(
    settings: Settings, routes: tuple[Route, ...] = ROUTES, *, enforced: bool = False
) -> Spec:
    """The OpenAPI document for a gateway running ``routes`` with ``settings``; ``enforced``:
    it checks tokens (``AuthPlan.enforced``)."""
    return _Builder(routes, settings, enforced).document()
