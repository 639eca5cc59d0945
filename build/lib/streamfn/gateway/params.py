"""A request's path, query and headers parsed into the route's Struct; a bad value is a 400
naming it.

Each field of such a Struct is a declared value, checked by its :mod:`.checks` check.  An
unknown query parameter is refused (a typo such as ``dealy`` must not be silently ignored),
and so is a parameter or header given twice.  The readers of a Struct are made on first use
and kept: they run on every request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from msgspec import Struct, structs
from multidict import CIMultiDictProxy

from streamfn.gateway.checks import Check, checker, declared, invalid
from streamfn.gateway.envelope import show
from streamfn.settings import Settings

S = TypeVar("S", bound=Struct)


@dataclass(frozen=True, slots=True)
class _Field:
    name: str  # as sent
    attr: str
    check: Check
    required: bool
    example: Any


@dataclass(frozen=True, slots=True)
class _Plan:
    """How to read one parameter Struct; ``from_path`` and ``from_headers`` are closures made
    once, since they run on every request."""

    fields: tuple[_Field, ...]
    names: frozenset[str]
    accepted: str
    empty: Any  # the instance when nothing is given, or None if a field is required
    exclusive: tuple[tuple[str, ...], ...]
    from_path: Callable[[Mapping[str, str]], Any]
    from_headers: Callable[[CIMultiDictProxy[str]], Any]


_PLANS: dict[type, _Plan] = {}


def _plan(model: type[Struct]) -> _Plan:
    """The checks of ``model``'s fields, made on first use."""
    plan = _PLANS.get(model)
    if plan is not None:
        return plan
    fields = []
    for info in structs.fields(model):
        meta = declared(info.type)[1]
        example = (meta.extra or {}).get("example")
        check = checker(info.encode_name, info.type)
        fields.append(_Field(info.encode_name, info.name, check, info.required, example))
    names = frozenset(f.name for f in fields)
    empty = None if any(f.required for f in fields) else model()
    plan = _Plan(
        tuple(fields),
        names,
        ", ".join(sorted(names)) or "none",
        empty,
        getattr(model, "exclusive", ()),
        _path_reader(model, tuple(fields)),
        _header_reader(model, tuple(fields), empty),
    )
    _PLANS[model] = plan
    return plan


def _path_reader(model: type[S], fields: tuple[_Field, ...]) -> Callable[[Mapping[str, str]], S]:
    if len(fields) == 1:  # every path of the table: one id or name
        name, check = fields[0].name, fields[0].check
        return lambda match_info: model(check(match_info[name], None))
    return lambda match_info: model(*[f.check(match_info[f.name], None) for f in fields])


def _header_reader(
    model: type[S], fields: tuple[_Field, ...], empty: S | None
) -> Callable[[CIMultiDictProxy[str]], S]:
    if len(fields) == 1 and empty is not None:  # the invoke path's Idempotency-Key
        name, check = fields[0].name, fields[0].check

        def read_one(sent: CIMultiDictProxy[str]) -> S:
            value = sent.get(name)
            if value is None:
                return empty
            if len(sent.getall(name)) > 1:
                raise invalid(f"{name} is given more than once; send one")
            return model(check(value, None))

        return read_one

    def read(sent: CIMultiDictProxy[str]) -> S:
        values = {}
        for f in fields:
            value = sent.get(f.name)
            if value is None:
                continue
            if len(sent.getall(f.name)) > 1:
                raise invalid(f"{f.name} is given more than once; send one")
            values[f.attr] = f.check(value, None)
        return empty if not values and empty is not None else model(**values)

    return read


def path(request: web.Request, model: type[S]) -> S:
    """The path parameters (``{name}`` in the route) as ``model``."""
    return (_PLANS.get(model) or _plan(model)).from_path(request.match_info)  # type: ignore[no-any-return]


def headers(request: web.Request, model: type[S]) -> S:
    """The declared headers as ``model``; each may be sent once."""
    return (_PLANS.get(model) or _plan(model)).from_headers(request.headers)  # type: ignore[no-any-return]


def query(request: web.Request, model: type[S], settings: Settings) -> S:
    """The query as ``model``: each parameter once, none unknown, the required ones given."""
    plan = _PLANS.get(model) or _plan(model)
    if not request.query_string and plan.empty is not None:
        return plan.empty  # type: ignore[no-any-return]
    params = request.query
    unknown = sorted({name for name in params if name not in plan.names})
    if unknown:
        names = ", ".join(show(name, 32) for name in unknown[:5])
        raise invalid(f"unknown query parameter {names}; this route accepts: {plan.accepted}")
    given: dict[str, str] = {}
    for name, value in params.items():
        if name in given:
            raise invalid(f"query parameter {name} is given more than once; give it once")
        given[name] = value
    return _checked(plan, model, given, settings, request.path)


def from_query(model: type[S], given: Mapping[str, str], settings: Settings, where: str = "") -> S:
    """``model`` from query values known to be single and expected (``where``: the path)."""
    return _checked(_plan(model), model, given, settings, where)


def _checked(
    plan: _Plan, model: type[S], given: Mapping[str, str], settings: Settings, where: str
) -> S:
    if len(given) > 1:
        for group in plan.exclusive:
            if sum(name in given for name in group) > 1:
                raise invalid(f"give either {' or '.join(group)}, not both")
    values = {}
    for f in plan.fields:
        raw = given.get(f.name)
        if raw is not None:
            values[f.attr] = f.check(raw, settings)
        elif f.required:
            raise invalid(
                f"the {f.name} query parameter is required, e.g. {where}?{f.name}={f.example}"
            )
    return model(**values)
