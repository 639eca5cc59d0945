"""``/schedules``: create, list, read, replace, delete, pause and resume schedules.

Handlers parse, call :class:`streamfn.schedules.ScheduleStore` and shape the response.  Checks
run in the order ``POST /invoke`` uses: ids and names first, then the query, the body (one
JSON object), the definition (a :class:`ScheduleError` is a 400 with its message), and last
the catalog: a function no live runner has loaded is a 404, exactly as for an invocation.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from streamfn.errors import ErrorCode
from streamfn.gateway import params, redact
from streamfn.gateway.checks import checker
from streamfn.gateway.envelope import ApiError, payload_too_large
from streamfn.gateway.models import NoQuery
from streamfn.gateway.responses import json_response, model_response
from streamfn.gateway.scalars import FunctionName
from streamfn.gateway.schedule_models import ScheduleDeleted, SchedulePath, SchedulesQuery
from streamfn.gateway.state import CATALOG, SCHEDULES, SETTINGS
from streamfn.schedules import Schedule, ScheduleDef, ScheduleError, parse_definition
from streamfn.schedules.definition import check_schedule_id
from streamfn.scripts import Reply

_STATUS: dict[str, int] = {Reply.CREATED: 201, Reply.UPDATED: 200, Reply.UNCHANGED: 200}
_EXAMPLE = '{"function": "echo", "cron": "*/5 * * * * *"}'
_function_name = checker("function", FunctionName)


def _addressed(request: web.Request, *, writing: bool = False) -> str:
    """The id in the path of a route that takes no query (else 400); ``writing`` also refuses
    ``file.`` ids, which files own."""
    sid = params.path(request, SchedulePath).id
    params.query(request, NoQuery, request.app[SETTINGS])
    if writing:
        try:
            check_schedule_id(sid)
        except ScheduleError as exc:
            raise ApiError(ErrorCode.INVALID_SCHEDULE_ID, str(exc)) from None
    return sid


def not_found(sid: str) -> ApiError:
    return ApiError(
        ErrorCode.NOT_FOUND,
        f"no schedule {sid!r}: it never existed or was deleted; GET /schedules lists them",
    )


async def _body(request: web.Request) -> dict[str, Any]:
    max_body = request.app[SETTINGS].max_body
    length = request.content_length
    if length is not None and length > max_body:
        raise payload_too_large(length, max_body)
    raw = await request.read()
    try:
        body = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as exc:
        raise ApiError(
            ErrorCode.INVALID_JSON,
            f"the request body is not valid JSON ({exc}); send e.g. {_EXAMPLE}",
        ) from None
    if not isinstance(body, dict):
        raise ApiError(
            ErrorCode.INVALID_SCHEDULE, f"the body must be a JSON object such as {_EXAMPLE}"
        )
    return body


def _definition(body: dict[str, Any], sid: str | None = None) -> ScheduleDef:
    function = body.get("function")
    if isinstance(function, str):
        _function_name(function, None)  # the same 400 as POST /invoke/{fn}
    try:
        return parse_definition(body, schedule_id=sid)
    except ScheduleError as exc:
        raise ApiError(ErrorCode.INVALID_SCHEDULE, str(exc)) from None


async def _write(request: web.Request, definition: ScheduleDef) -> web.Response:
    """Create or replace; 201 when created, 200 when replaced (or unchanged)."""
    catalog = request.app[CATALOG]
    if definition.function not in catalog.known:
        raise catalog.unknown(definition.function)
    try:
        schedule, status = await request.app[SCHEDULES].put(definition)
    except (LookupError, RuntimeError) as exc:  # lost a race with a delete or an update
        raise ApiError(ErrorCode.CONFLICT, str(exc)) from None
    headers = {"Location": f"/schedules/{schedule.id}"}
    return json_response(redact.schedule(request, schedule.to_json()), _STATUS[status], headers)


def _shown(request: web.Request, schedule: Schedule | None, sid: str) -> web.Response:
    if schedule is None:
        raise not_found(sid)
    return json_response(redact.schedule(request, schedule.to_json()))


async def create_schedule(request: web.Request) -> web.Response:
    """``POST /schedules``; a body ``id`` makes it an upsert of that schedule."""
    params.query(request, NoQuery, request.app[SETTINGS])
    return await _write(request, _definition(await _body(request)))


async def list_schedules(request: web.Request) -> web.Response:
    """Every schedule, or those of ``?function=``, ordered by id."""
    query = params.query(request, SchedulesQuery, request.app[SETTINGS])
    found = await request.app[SCHEDULES].list_schedules(query.function)
    return json_response({"schedules": [redact.schedule(request, s.to_json()) for s in found]})


async def get_schedule(request: web.Request) -> web.Response:
    sid = _addressed(request)
    return _shown(request, await request.app[SCHEDULES].get(sid), sid)


async def put_schedule(request: web.Request) -> web.Response:
    """Create or replace the schedule ``{id}``; its fire history is kept."""
    sid = _addressed(request, writing=True)
    return await _write(request, _definition(await _body(request), sid))


async def delete_schedule(request: web.Request) -> web.Response:
    """Delete a schedule; fires already made are ordinary invocations and stay."""
    sid = _addressed(request)
    if not await request.app[SCHEDULES].delete(sid):
        raise not_found(sid)
    return model_response(ScheduleDeleted(id=sid, status="deleted"))


async def pause_schedule(request: web.Request) -> web.Response:
    sid = _addressed(request)
    return _shown(request, await request.app[SCHEDULES].pause(sid), sid)


async def resume_schedule(request: web.Request) -> web.Response:
    """Fire again from the next planned time after now (times passed while paused are
    skipped whatever the misfire policy)."""
    sid = _addressed(request)
    try:
        resumed = await request.app[SCHEDULES].resume(sid)
    except RuntimeError as exc:
        raise ApiError(ErrorCode.CONFLICT, str(exc)) from None
    return _shown(request, resumed, sid)
