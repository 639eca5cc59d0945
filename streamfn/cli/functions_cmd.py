"""``streamfn functions ls|rm``: deployed functions, straight from Redis (no HTTP).

``ls`` shows what ``GET /functions`` answers: each deployed function's state, live runners
and the work its queues hold, then the removed ones.  ``rm`` removes deployed functions no
live runner loads, as ``DELETE /functions/{fn}`` does (:mod:`streamfn.undeploy`).  Exit
codes: 0 done, 1 not deployed (never, or removed already), 2 bad arguments, 3 Redis
unreachable, 4 refused: a live runner loads it.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson
from redis.exceptions import RedisError

from streamfn import deployed
from streamfn.cli import edge
from streamfn.connection import AnyRedis, make_redis
from streamfn.keys import Keys
from streamfn.names import is_function_name
from streamfn.queue_counts import counts_of
from streamfn.redis_url import redact
from streamfn.registry import read_catalog
from streamfn.settings import Settings
from streamfn.undeploy import NotDeployed, StillLoaded, undeploy

EXIT_OK = edge.EXIT_OK
EXIT_NOT_DEPLOYED = 1
EXIT_USAGE = edge.EXIT_USAGE
EXIT_UNAVAILABLE = 3
EXIT_LOADED = 4


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamfn functions",
        description="Deployed functions, straight from Redis, as GET and DELETE /functions. "
        "Exit code: 0 done, 1 not deployed, 2 bad arguments, 3 Redis unreachable, "
        "4 a live runner loads it.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = actions.add_parser(
        "ls",
        help="list deployed and removed functions with their queued, running, scheduled work",
        description="List deployed functions (live, or waiting for a runner until their "
        "retention ends), then removed ones, with what their queues hold.",
    )
    ls.add_argument("--json", action="store_true", help="print JSON, as GET /functions")
    rm = actions.add_parser(
        "rm",
        help="remove deployed functions no live runner loads (their queued work is kept)",
        description="Remove deployed functions: invocations of them are refused (404) from "
        "now on; what their queues hold is kept. Refused while a live runner loads one: "
        "remove its file from the runners' functions directory instead.",
    )
    rm.add_argument("names", metavar="NAME", nargs="+", help="function name")
    return parser


def main(argv: list[str]) -> int:
    """``streamfn functions ARGV``: parse, read settings (``STREAMFN_*``), run; exit code."""
    return run(build_parser().parse_args(argv), Settings.from_env())


def run(args: argparse.Namespace, settings: Settings) -> int:
    for name in getattr(args, "names", []):
        if not is_function_name(name):
            print(
                f"streamfn functions {args.action}: invalid function name {name!r}: use "
                "lower-case letters, digits and '_', starting with a letter",
                file=sys.stderr,
            )
            return EXIT_USAGE
    try:
        return edge.run(_with_redis(settings, args))
    except (RedisError, OSError) as exc:
        print(
            f"streamfn: cannot use Redis at {redact(settings.redis_url)} ({exc}): "
            "start Redis or set STREAMFN_REDIS_URL",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE


async def _with_redis(settings: Settings, args: argparse.Namespace) -> int:
    redis: AnyRedis = make_redis(settings, max_connections=4)
    try:
        if args.action == "ls":
            return await _ls(redis, settings, json=args.json)
        return await _rm(redis, settings, args.names)
    finally:
        await redis.aclose()


async def _ls(redis: AnyRedis, settings: Settings, *, json: bool) -> int:
    keys = Keys.of(settings)
    catalog = await read_catalog(redis, keys, settings.deployed_retention)
    entries = [*catalog.functions.values(), *catalog.removed.values()]
    counts = await counts_of(redis, keys, entries)
    rows = [{**e, **counts[e["name"]].to_json()} for e in entries]
    if json:
        body = {
            "functions": rows[: len(catalog.functions)],
            "removed": rows[len(catalog.functions) :],
            "errors": catalog.errors,
            "runners": len(catalog.runners),
        }
        sys.stdout.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")
        return EXIT_OK
    head = (
        "NAME",
        "STATE",
        "RUNNERS",
        "QUEUED",
        "RUNNING",
        "SCHEDULED",
        "OLDEST",
        "PAUSED",
        "UNTIL",
    )
    table: list[tuple[str, ...]] = [head, *(_row(r) for r in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]) - 1)]
    for row in table:
        print("  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]))
    for file, error in catalog.errors.items():
        print(f"{file}: {error}", file=sys.stderr)
    return EXIT_OK


def _row(entry: dict[str, Any]) -> tuple[str, ...]:
    state = entry["state"] + (f" ({entry['reason']})" if "reason" in entry else "")
    until = entry.get("retained_until") or entry.get("removed_at")
    return (
        entry["name"],
        state,
        str(entry.get("runners", 0)),
        str(entry["queued"]),
        str(entry["running"]),
        str(entry["scheduled"]),
        f"{entry['oldest_queued_age_s']:g}s",
        f"since {deployed.utc(entry['paused_at'])}" if entry.get("paused") else "-",
        deployed.utc(until) if until else "-",
    )


async def _rm(redis: AnyRedis, settings: Settings, names: list[str]) -> int:
    keys = Keys.of(settings)
    code = EXIT_OK
    for name in names:
        try:
            entry = await undeploy(redis, keys, name, settings.deployed_retention)
        except NotDeployed as exc:
            print(f"streamfn functions rm: {exc}", file=sys.stderr)
            code = max(code, EXIT_NOT_DEPLOYED)
            continue
        except StillLoaded as exc:
            print(f"streamfn functions rm: {exc}", file=sys.stderr)
            code = max(code, EXIT_LOADED)
            continue
        held = (await counts_of(redis, keys, [entry]))[name]
        print(
            f"removed {name} (its queues keep {held.queued} queued, {held.running} running, "
            f"{held.scheduled} scheduled)"
        )
    return code
