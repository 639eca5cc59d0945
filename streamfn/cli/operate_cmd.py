"""``streamfn runners``, ``streamfn pause FN`` and ``streamfn resume FN``, straight from Redis.

``runners`` prints what ``GET /runners`` answers (:mod:`streamfn.runners_view`): each live
runner as of its last heartbeat, and the functions holding orphaned work.  ``pause`` and
``resume`` do what ``POST /functions/{fn}/pause|resume`` do (:mod:`streamfn.pauses`).
Exit codes: 0 done, 1 not deployed, 2 bad arguments, 3 Redis unreachable.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from redis.exceptions import RedisError

from streamfn import deployed, pauses
from streamfn.cli import edge
from streamfn.connection import AnyRedis, make_redis
from streamfn.keys import Keys
from streamfn.names import is_function_name
from streamfn.redis_url import redact
from streamfn.registry import read_catalog
from streamfn.runners_view import read_view
from streamfn.settings import Settings

EXIT_OK = edge.EXIT_OK
EXIT_NOT_DEPLOYED = 1
EXIT_USAGE = edge.EXIT_USAGE
EXIT_UNAVAILABLE = 3
CODES = "Exit code: 0 done, 1 not deployed, 2 bad arguments, 3 Redis unreachable."


def runners_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamfn runners",
        description="The live runners, straight from Redis, as GET /runners: id, host, pid, "
        "version, start, last heartbeat, in flight / concurrency, functions and the oldest "
        "lease; then the functions whose work is held by runners that are gone. " + CODES,
    )
    parser.add_argument("--json", action="store_true", help="print JSON, as GET /runners")
    return parser


def pause_parser(action: str) -> argparse.ArgumentParser:
    what = (
        "Pause FN: its invocations are still accepted and wait in its queues; runners start "
        "none of its work within a second (what runs finishes)."
        if action == "pause"
        else "Resume FN: runners take its work again within a second."
    )
    parser = argparse.ArgumentParser(prog=f"streamfn {action}", description=f"{what} {CODES}")
    parser.add_argument("function", metavar="FN", help="function name")
    return parser


def runners_main(argv: list[str]) -> int:
    return run("runners", runners_parser().parse_args(argv), Settings.from_env())


def pause_main(argv: list[str]) -> int:
    return run("pause", pause_parser("pause").parse_args(argv), Settings.from_env())


def resume_main(argv: list[str]) -> int:
    return run("resume", pause_parser("resume").parse_args(argv), Settings.from_env())


def run(command: str, args: argparse.Namespace, settings: Settings) -> int:
    """Run ``command`` (runners, pause or resume) with its parsed ``args``; the exit code."""
    if command == "runners":
        return _run(settings, lambda redis, s: _runners(redis, s, json=args.json))
    fn = args.function
    if not is_function_name(fn):
        print(
            f"streamfn {command}: invalid function name {fn!r}: use lower-case letters, digits "
            "and '_', starting with a letter",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return _run(settings, lambda redis, s: _set_paused(redis, s, fn, command))


Work = Callable[[AnyRedis, Settings], Awaitable[int]]


def _run(settings: Settings, work: Work) -> int:
    async def with_redis() -> int:
        redis: AnyRedis = make_redis(settings, max_connections=4)
        try:
            return await work(redis, settings)
        finally:
            await redis.aclose()

    try:
        return edge.run(with_redis())
    except (RedisError, OSError) as exc:
        print(
            f"streamfn: cannot use Redis at {redact(settings.redis_url)} ({exc}): "
            "start Redis or set STREAMFN_REDIS_URL",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE


async def _set_paused(redis: AnyRedis, settings: Settings, fn: str, action: str) -> int:
    keys = Keys.of(settings)
    catalog = await read_catalog(redis, keys, settings.deployed_retention)
    if fn not in catalog.functions and not (action == "resume" and fn in catalog.paused):
        why = "was removed" if fn in catalog.removed else "is not deployed"
        print(
            f"streamfn {action}: function {fn!r} {why}; see streamfn functions ls", file=sys.stderr
        )
        return EXIT_NOT_DEPLOYED
    if action == "pause":
        since = await pauses.pause(redis, keys, fn)
        print(f"paused {fn} since {deployed.utc(since)}: its invocations wait in its queues")
    elif await pauses.resume(redis, keys, fn):
        print(f"resumed {fn}")
    else:
        print(f"{fn} was not paused")
    return EXIT_OK


async def _runners(redis: AnyRedis, settings: Settings, *, json: bool) -> int:
    keys = Keys.of(settings)
    catalog = await read_catalog(redis, keys, settings.deployed_retention)
    entries = [*catalog.functions.values(), *catalog.removed.values()]
    view = await read_view(redis, keys, catalog.runners, entries)
    if json:
        sys.stdout.write(orjson.dumps(view, option=orjson.OPT_INDENT_2).decode() + "\n")
        return EXIT_OK
    head = ("ID", "HOST", "PID", "VERSION", "STARTED", "HEARTBEAT", "BUSY", "OLDEST LEASE")
    table: list[tuple[str, ...]] = [head, *(_row(r) for r in view["runners"])]
    widths = [max(len(r[i]) for r in table) for i in range(len(head) - 1)]
    for row in table:
        print("  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]))
    for r in view["runners"]:
        print(f"{r['id']}: {', '.join(r['functions']) or '(no functions)'}")
    for o in view["orphaned"]:
        print(f"orphaned: {o['function']} has {o['entries']} entries held by runners that are gone")
    return EXIT_OK


def _row(r: dict[str, Any]) -> tuple[str, ...]:
    lease = r["oldest_lease"]
    return (
        r["id"],
        r["host"],
        str(r["pid"]),
        r["version"] or "-",
        deployed.utc(r["started_at"]) if r["started_at"] else "-",
        f"{r['heartbeat_age_s']:g}s ago",
        f"{r['in_flight']}/{r['concurrency']}",
        f"{lease['id']} ({lease['age_s']:g}s)" if lease else "-",
    )
