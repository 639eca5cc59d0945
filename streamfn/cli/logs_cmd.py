"""``streamfn logs ID [--attempt N] [--follow] [--json]``: what an invocation logged, from Redis.

Reads what ``GET /invocations/{id}/logs`` answers, straight from Redis.  Lines are written at
the end of each attempt, so ``--follow`` shows each attempt as it ends: it polls every
``--interval`` s until the invocation is final (then prints what its last attempt wrote), or
gives up after ``--timeout`` s.  Each line is printed once.  Exit codes: 0 done, 1 no such
invocation, 2 bad arguments, 3 Redis unreachable, 4 ``--follow`` gave up before it finished.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from redis.exceptions import RedisError

from streamfn import invocation_logs
from streamfn.cli import edge
from streamfn.connection import AnyRedis, make_redis
from streamfn.keys import Keys
from streamfn.names import queue_of
from streamfn.record import load_invocation
from streamfn.redis_url import redact
from streamfn.settings import Settings

EXIT_OK = edge.EXIT_OK
EXIT_NOT_FOUND = 1
EXIT_USAGE = edge.EXIT_USAGE
EXIT_UNAVAILABLE = 3
EXIT_GAVE_UP = 4


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamfn logs",
        description="What an invocation's attempts logged (ctx.log, an isolated handler's "
        "stdout and stderr), straight from Redis, as GET /invocations/{id}/logs. Lines are "
        "stored when each attempt ends. Exit code: 0 done, 1 no such invocation, 2 bad "
        "arguments, 3 Redis unreachable, 4 --follow gave up before the invocation finished.",
    )
    parser.add_argument("id", metavar="ID", help="invocation id (<function>.<24 hex>)")
    parser.add_argument("--attempt", type=int, help="only this attempt's lines")
    parser.add_argument(
        "--follow", action="store_true", help="print each attempt's lines as it ends, until done"
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="--follow gives up after this many s"
    )
    parser.add_argument("--interval", type=float, default=1.0, help="--follow polls this often")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print JSON: the body of GET /invocations/{id}/logs; with --follow, one line "
        "object per output line",
    )
    return parser


def main(argv: list[str]) -> int:
    """``streamfn logs ARGV``: parse, read settings (``STREAMFN_*``), run; exit code."""
    return run(build_parser().parse_args(argv), Settings.from_env())


def run(args: argparse.Namespace, settings: Settings) -> int:
    problem = _usage_problem(args)
    if problem:
        print(f"streamfn logs: {problem}", file=sys.stderr)
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


def _usage_problem(args: argparse.Namespace) -> str:
    if queue_of(args.id) is None:
        return (
            f"invalid invocation id {args.id!r}: ids look like <function>.<24 hex digits>, "
            "as POST /invoke/<function> returns"
        )
    if args.attempt is not None and args.attempt < 1:
        return f"--attempt {args.attempt}: attempts count from 1"
    if not 0 < args.interval <= 60 or not 0 < args.timeout <= 86400:
        return "--interval must be in (0, 60] and --timeout in (0, 86400] seconds"
    return ""


async def _with_redis(settings: Settings, args: argparse.Namespace) -> int:
    redis: AnyRedis = make_redis(settings, max_connections=2)
    try:
        if args.follow:
            return await _follow(redis, Keys.of(settings), args)
        known, lines = await _read(redis, Keys.of(settings), args)
        if not known:
            return _not_found(args.id)
        if args.json:
            body = {"id": args.id, "lines": lines}
            sys.stdout.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            _print(lines, json=False)
        return EXIT_OK
    finally:
        await redis.aclose()


async def _read(redis: AnyRedis, keys: Keys, args: argparse.Namespace) -> tuple[bool, list[Any]]:
    queue = queue_of(args.id) or ""
    known, fields = await invocation_logs.read(redis, keys, queue, args.id)
    return known, invocation_logs.lines_of(fields, args.attempt)


async def _follow(redis: AnyRedis, keys: Keys, args: argparse.Namespace) -> int:
    """Poll until the invocation is final (bounded by ``--timeout``), printing new lines."""
    printed: dict[int, int] = {}  # attempt -> lines of it already printed
    deadline = time.monotonic() + args.timeout
    while True:
        invocation = await load_invocation(redis, keys, args.id)
        known, lines = await _read(redis, keys, args)  # after the status: a final one's are in
        if invocation is None and not known:
            return _not_found(args.id)
        fresh: list[dict[str, Any]] = []
        seen: dict[int, int] = {}
        for line in lines:
            n = seen[line["attempt"]] = seen.get(line["attempt"], 0) + 1
            if n > printed.get(line["attempt"], 0):
                fresh.append(line)
        printed.update(seen)
        _print(fresh, json=args.json)
        if invocation is None or invocation.final:
            return EXIT_OK
        if time.monotonic() >= deadline:
            print(
                f"streamfn logs: {args.id} is still {invocation.status} after {args.timeout:g} s",
                file=sys.stderr,
            )
            return EXIT_GAVE_UP
        await asyncio.sleep(min(args.interval, max(deadline - time.monotonic(), 0)))


def _print(lines: list[dict[str, Any]], *, json: bool) -> None:
    for line in lines:
        if json:
            sys.stdout.write(orjson.dumps(line).decode() + "\n")
        else:
            at = datetime.fromtimestamp(line["ts"] / 1000, UTC).isoformat(timespec="milliseconds")
            where = f"#{line['attempt']} {line['level']:<7} {line['stream']:<6}"
            print(f"{at} {where} {line['message']}")
    sys.stdout.flush()


def _not_found(invocation_id: str) -> int:
    print(
        f"streamfn logs: no invocation {invocation_id!r}: it never existed or its record "
        "expired (STREAMFN_RESULT_TTL)",
        file=sys.stderr,
    )
    return EXIT_NOT_FOUND
