"""``streamfn schedule add|ls|rm|pause|resume``: manage schedules straight in Redis (no HTTP).

The same :class:`streamfn.schedules.ScheduleStore` and definition checks as ``/schedules``, so
a definition the gateway refuses is refused here with the same message.  Exit codes: 0 done,
1 no such schedule, 2 bad arguments or definition, 3 Redis unreachable.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from redis.exceptions import RedisError

from streamfn import codec, deployed
from streamfn.cli import edge
from streamfn.connection import AnyRedis, make_redis
from streamfn.keys import Keys
from streamfn.names import is_function_name
from streamfn.redis_url import redact
from streamfn.registry import read_catalog
from streamfn.schedules import Schedule, ScheduleError, ScheduleStore, parse_definition
from streamfn.schedules.definition import MISFIRE_POLICIES
from streamfn.settings import Settings

EXIT_OK = edge.EXIT_OK
EXIT_NOT_FOUND = 1
EXIT_USAGE = edge.EXIT_USAGE
EXIT_UNAVAILABLE = 3


def build_parser() -> argparse.ArgumentParser:
    """``streamfn schedule``'s parser: one subcommand per action, each with its ``--help``."""
    schedule = argparse.ArgumentParser(
        prog="streamfn schedule",
        description="Manage schedules directly in Redis, as the /schedules routes do. "
        "Exit code: 0 done, 1 no such schedule, 2 bad arguments, 3 Redis unreachable.",
    )
    actions = schedule.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="create a schedule (or replace the one with --id)",
        description="Create a schedule firing FN on a cron expression or an interval; with "
        "--id, create or replace that schedule (its fire history is kept).",
    )
    add.add_argument("function", metavar="FN", help="function name, e.g. echo")
    when = add.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", help="'0 3 * * *', or 6 fields seconds first: '*/5 * * * * *'")
    when.add_argument("--every", help="an interval: 30s, 5m, 1h30m (at least 1s)")
    add.add_argument("--payload", metavar="JSON", default="null", help="passed to every fire")
    add.add_argument("--timezone", help="IANA zone the cron is read in (default UTC)")
    add.add_argument("--misfire", choices=MISFIRE_POLICIES, help="default fire_once")
    add.add_argument("--catch-up-max", type=int, metavar="N", help="with --misfire catch_up")
    add.add_argument("--start-at", metavar="T", help="epoch ms or ISO 8601")
    add.add_argument("--end-at", metavar="T", help="epoch ms or ISO 8601")
    add.add_argument("--limit", type=int, metavar="N", help="stop after N fires")
    add.add_argument("--id", help="schedule id: makes the call an upsert")
    ls = actions.add_parser("ls", help="list schedules", description="List schedules by id.")
    ls.add_argument("--function", metavar="FN", help="only this function's schedules")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    for name, text in (
        ("rm", "delete schedules (their past fires stay)"),
        ("pause", "stop firing (kept, resumable)"),
        ("resume", "fire again from the next planned time after now"),
    ):
        action = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        action.add_argument("ids", metavar="ID", nargs="+", help="schedule id")
    return schedule


def main(argv: list[str]) -> int:
    """``streamfn schedule ARGV``: parse, read settings (``STREAMFN_*``), run; exit code."""
    return run(build_parser().parse_args(argv), Settings.from_env())


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``streamfn schedule <action>``; returns the exit code."""
    try:
        return edge.run(_with_store(settings, lambda store: ACTIONS[args.action](store, args)))
    except ScheduleError as exc:
        print(f"streamfn schedule {args.action}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (RedisError, OSError) as exc:
        print(
            f"streamfn: cannot use Redis at {redact(settings.redis_url)} ({exc}): "
            "start Redis or set STREAMFN_REDIS_URL",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE
    except (LookupError, RuntimeError) as exc:  # lost a race with a delete or an update
        print(f"streamfn schedule {args.action}: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND


async def _with_store(settings: Settings, action: Callable[[ScheduleStore], Awaitable[int]]) -> int:
    redis: AnyRedis = make_redis(settings, max_connections=4)
    try:
        return await action(ScheduleStore(redis, Keys.of(settings)))
    finally:
        await redis.aclose()


def _time(raw: str | None) -> int | str | None:
    return int(raw) if raw is not None and raw.isdigit() else raw


def _body(args: argparse.Namespace) -> dict[str, Any]:
    try:
        payload = codec.loads(args.payload)
    except codec.JSONDecodeError as exc:
        raise ScheduleError(
            f"--payload is not JSON ({exc}); quote it, e.g. '{{\"a\": 1}}'"
        ) from None
    body = {
        "function": args.function,
        "cron": args.cron,
        "every": args.every,
        "payload": payload,
        "timezone": args.timezone,
        "misfire": args.misfire,
        "catch_up_max": args.catch_up_max,
        "start_at": _time(args.start_at),
        "end_at": _time(args.end_at),
        "limit": args.limit,
        "id": args.id,
    }
    return {k: v for k, v in body.items() if v is not None or k == "payload"}


def _print(schedule: Schedule) -> None:
    sys.stdout.write(orjson.dumps(schedule.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n")


async def _add(store: ScheduleStore, args: argparse.Namespace) -> int:
    definition = parse_definition(_body(args))
    schedule, status = await store.put(definition)
    _print(schedule)
    catalog = await read_catalog(store.redis, store.keys)
    if catalog.functions.get(definition.function, {}).get("state") != deployed.LIVE:
        print(
            f"streamfn schedule add: note: no live runner has loaded {definition.function!r} "
            f"yet; the schedule ({status}) fires once one does",
            file=sys.stderr,
        )
    return EXIT_OK


async def _ls(store: ScheduleStore, args: argparse.Namespace) -> int:
    if args.function is not None and not is_function_name(args.function):
        raise ScheduleError(
            f"invalid function name {args.function!r}: use lower-case letters, digits and '_', "
            "starting with a letter"
        )
    found = await store.list_schedules(args.function)
    if args.json:
        body = {"schedules": [s.to_json() for s in found]}
        sys.stdout.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")
        return EXIT_OK
    rows = [("ID", "FUNCTION", "WHEN", "STATE", "FIRES", "NEXT FIRE")]
    for s in found:
        spec = s.definition.spec
        when = f"{spec.kind} {spec.expr}" + (f" ({spec.timezone})" if spec.kind == "cron" else "")
        shown = s.to_json()
        rows.append(
            (s.id, s.function, when, s.state, str(s.fire_count), shown["next_fire_local"] or "-")
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]))
    return EXIT_OK


async def _each(
    ids: list[str], act: Callable[[str], Awaitable[object]], verb: str, show: bool
) -> int:
    code = EXIT_OK
    for sid in ids:
        result = await act(sid)
        if result is None or result is False:
            print(
                f"streamfn schedule: no schedule {sid!r} (see streamfn schedule ls)",
                file=sys.stderr,
            )
            code = EXIT_NOT_FOUND
        elif show and isinstance(result, Schedule):
            _print(result)
        else:
            print(f"{verb} {sid}")
    return code


async def _rm(store: ScheduleStore, args: argparse.Namespace) -> int:
    return await _each(args.ids, store.delete, "deleted", show=False)


async def _pause(store: ScheduleStore, args: argparse.Namespace) -> int:
    return await _each(args.ids, store.pause, "paused", show=True)


async def _resume(store: ScheduleStore, args: argparse.Namespace) -> int:
    return await _each(args.ids, store.resume, "resumed", show=True)


ACTIONS: dict[str, Callable[[ScheduleStore, argparse.Namespace], Awaitable[int]]] = {
    "add": _add,
    "ls": _ls,
    "rm": _rm,
    "pause": _pause,
    "resume": _resume,
}
