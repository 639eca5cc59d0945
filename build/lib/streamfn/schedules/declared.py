"""Schedules declared in a function file: ``SCHEDULE`` in ``functions/<name>.py``.

``SCHEDULE`` may be a string (a cron expression, or an interval such as ``"30s"``), a dict with
the fields of ``POST /schedules`` minus ``function`` (``cron`` or ``every``, ``payload``,
``timezone``, ``misfire``, ``catch_up_max``, ``start_at``, ``end_at``, ``limit``) plus an
optional ``name``, or a list of those.  Ids are derived from the file, ``file.<function>.<name>``
(``name`` defaults to the 1-based position in the list), so every runner that syncs the same
file writes the same schedules: the upsert is a no-op when nothing changed, and concurrent
syncs create each schedule once.  Name your schedules if you reorder the list: an unnamed
schedule's id follows its position.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from streamfn.schedules.definition import FILE_ID_PREFIX, ScheduleDef, parse_definition
from streamfn.schedules.spec import ScheduleError
from streamfn.schedules.store import ScheduleStore

_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,48}")
_INTERVAL_RE = re.compile(r"\s*(\d+[dhms])+\s*")


@dataclass(slots=True)
class SyncReport:
    """Schedule ids by what one sync did to them."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def declared_prefix(function: str) -> str:
    return f"{FILE_ID_PREFIX}{function}."


def source_of(function: str) -> str:
    return f"file:{function}.py"


def parse_declared(function: str, value: object) -> list[ScheduleDef]:
    """The schedules a module's ``SCHEDULE`` value declares (None: none).

    Raises :class:`ScheduleError` naming the file and the entry that is wrong.
    """
    if value is None:
        return []
    items: Sequence[Any] = value if isinstance(value, list | tuple) else [value]
    defs: list[ScheduleDef] = []
    seen: set[str] = set()
    for position, item in enumerate(items, start=1):
        where = f"functions/{function}.py SCHEDULE" + (
            f"[{position - 1}]" if len(items) > 1 else ""
        )
        try:
            body = _body(item)
            name = body.pop("name", None) or body.pop("id", None) or str(position)
            if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
                raise ScheduleError(
                    f"name {name!r} is not valid; use 1-48 letters, digits, '_' or '-'"
                )
            if name in seen:
                raise ScheduleError(f"name {name!r} is used twice; names must be unique")
            seen.add(name)
            if "function" in body:
                raise ScheduleError("'function' is implied by the file; leave it out")
            body["function"] = function
            sid = declared_prefix(function) + name
            defs.append(parse_definition(body, schedule_id=sid, source=source_of(function)))
        except ScheduleError as exc:
            raise ScheduleError(f"{where}: {exc}") from None
    return defs


def _body(item: object) -> dict[str, Any]:
    if isinstance(item, str):
        return {"every" if _INTERVAL_RE.fullmatch(item) else "cron": item}
    if isinstance(item, Mapping):
        return dict(item)
    raise ScheduleError(
        f"{item!r} is not a schedule; use a cron string, an interval string like '30s', "
        "a dict such as {'cron': '0 * * * *', 'payload': {...}}, or a list of those"
    )


async def sync_declared(store: ScheduleStore, function: str, value: object) -> SyncReport:
    """Make the stored schedules of ``functions/<function>.py`` match its ``SCHEDULE``.

    An invalid declaration raises :class:`ScheduleError` before anything is written, so the
    schedules stored from the last good version stay in force.
    """
    report = SyncReport()
    defs = parse_declared(function, value)
    for definition in defs:
        _, status = await store.put(definition)
        getattr(report, status).append(definition.id)
    wanted = {d.id for d in defs}
    report.deleted = await _delete_declared(store, function, keep=wanted)
    return report


async def remove_declared(store: ScheduleStore, function: str) -> list[str]:
    """Delete every schedule the file of ``function`` declared (the file was deleted)."""
    return await _delete_declared(store, function, keep=set())


async def _delete_declared(store: ScheduleStore, function: str, keep: set[str]) -> list[str]:
    prefix = declared_prefix(function)
    stale = [
        s.id
        for s in await store.list_schedules(function)
        if s.id.startswith(prefix) and s.id not in keep
    ]
    return [sid for sid in stale if await store.delete(sid)]
