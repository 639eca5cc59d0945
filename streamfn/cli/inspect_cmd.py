"""``streamfn ls`` and ``streamfn show ID``: invocations, straight from Redis (no HTTP).

``ls`` reads the invocation index (:mod:`streamfn.index`) as ``GET /invocations`` does: one
function's (``--function``), or, without it, every deployed function's newest, merged by
creation time.  ``show`` prints one invocation with its payload.  Exit codes: 0 done, 1 no
such invocation, 2 bad arguments, 3 Redis unreachable.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import datetime
from typing import Any

import orjson
from redis.exceptions import RedisError

from streamfn import index
from streamfn.cli import edge
from streamfn.connection import AnyRedis, make_redis
from streamfn.deployed import utc
from streamfn.keys import Keys
from streamfn.names import INVOCATION_ID_RE, is_function_name
from streamfn.record import STATUSES, load_invocation
from streamfn.redis_url import redact
from streamfn.registry import read_catalog
from streamfn.settings import Settings

EXIT_OK = edge.EXIT_OK
EXIT_NOT_FOUND = 1
EXIT_USAGE = edge.EXIT_USAGE
EXIT_UNAVAILABLE = 3

_AGO_RE = re.compile(r"([0-9]+(?:\.[0-9]+)?)([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def since(raw: str) -> int:
    """``--since``: a duration back from now (``90s``, ``15m``, ``2h``, ``1d``) or an RFC 3339
    time with an offset; epoch ms."""
    ago = _AGO_RE.fullmatch(raw)
    if ago:
        return int((time.time() - float(ago.group(1)) * _UNIT[ago.group(2)]) * 1000)
    try:
        when = datetime.fromisoformat(raw.upper())
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{raw!r} is neither a duration (15m, 2h, 1d) nor an RFC 3339 time with an offset"
        )
    return int(when.timestamp() * 1000)


def function(raw: str) -> str:
    if not is_function_name(raw):
        raise argparse.ArgumentTypeError(f"invalid function name {raw!r}")
    return raw


def limit(raw: str) -> int:
    value = edge.positive_int(raw)
    if value > index.MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"at most {index.MAX_LIMIT}")
    return value


def ls_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamfn ls",
        description="List invocations from the index, newest first: one function's, or "
        "every deployed function's merged by creation time. Exit code: 0 done, 2 bad "
        "arguments, 3 Redis unreachable.",
    )
    parser.add_argument("--function", type=function, help="only this function")
    parser.add_argument("--status", choices=STATUSES, help="only invocations in this status")
    parser.add_argument(
        "--since", type=since, metavar="WHEN", help="created since: 15m, 2h, 1d or RFC 3339"
    )
    parser.add_argument(
        "--limit", type=limit, default=index.DEFAULT_LIMIT, help="most rows (default 50)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON rows, as GET /invocations")
    return parser


def show_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamfn show",
        description="Show one invocation with its payload, result or error. Exit code: 0 "
        "found, 1 no such invocation (or its record expired), 2 bad arguments, 3 Redis "
        "unreachable.",
    )
    parser.add_argument("id", metavar="ID", help="invocation id, <function>.<24 hex>")
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def ls(argv: list[str]) -> int:
    """``streamfn ls ARGV``: parse, read settings (``STREAMFN_*``), run; exit code."""
    return run_ls(ls_parser().parse_args(argv), Settings.from_env())


def show(argv: list[str]) -> int:
    """``streamfn show ARGV``."""
    return run_show(show_parser().parse_args(argv), Settings.from_env())


def run_ls(args: argparse.Namespace, settings: Settings) -> int:
    return _run(settings, _ls(args))


def run_show(args: argparse.Namespace, settings: Settings) -> int:
    if INVOCATION_ID_RE.fullmatch(args.id) is None:
        print(f"streamfn show: invalid invocation id {args.id[:80]!r}", file=sys.stderr)
        return EXIT_USAGE
    return _run(settings, _show(args))


def _run(settings: Settings, work: Any) -> int:
    async def main() -> int:
        redis: AnyRedis = make_redis(settings, max_connections=4)
        try:
            return int(await work(redis, Keys.of(settings), settings))
        finally:
            await redis.aclose()

    try:
        return edge.run(main())
    except (RedisError, OSError) as exc:
        print(
            f"streamfn: cannot use Redis at {redact(settings.redis_url)} ({exc}): "
            "start Redis or set STREAMFN_REDIS_URL",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE


def _ls(args: argparse.Namespace) -> Any:
    async def work(redis: AnyRedis, keys: Keys, settings: Settings) -> int:
        if args.function:
            names = [args.function]
        else:
            names = sorted((await read_catalog(redis, keys, settings.deployed_retention)).functions)
        rows: list[dict[str, Any]] = []
        for name in names:
            query = index.Query(name, status=args.status, since_ms=args.since, limit=args.limit)
            queues = await index.queues_of(redis, keys, name)
            rows += (await index.list_page(redis, keys, queues, query)).rows
        rows.sort(key=lambda r: r["id"].split(".", 1)[1][:12], reverse=True)
        rows = rows[: args.limit]
        if args.json:
            sys.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode() + "\n")
        else:
            _table(rows)
        return EXIT_OK

    return work


def _table(rows: list[dict[str, Any]]) -> None:
    head = ("ID", "STATUS", "ATTEMPT", "CREATED", "DURATION", "TAGS")
    table = [head] + [
        (
            r["id"],
            r["status"],
            str(r["attempt"]),
            utc(r["created_at"]) if "created_at" in r else "-",
            f"{r['duration_ms']}ms" if "duration_ms" in r else "-",
            ",".join(r.get("tags", ())) or "-",
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(head) - 1)]
    for row in table:
        print("  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]))


def _show(args: argparse.Namespace) -> Any:
    async def work(redis: AnyRedis, keys: Keys, settings: Settings) -> int:
        inv = await load_invocation(redis, keys, args.id)
        if inv is None:
            print(
                f"streamfn show: no invocation {args.id}: it never existed or its record "
                "expired (STREAMFN_RESULT_TTL)",
                file=sys.stderr,
            )
            return EXIT_NOT_FOUND
        body = inv.to_json(include_payload=True)
        if args.json:
            sys.stdout.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")
            return EXIT_OK
        for name, value in body.items():
            if name.endswith("_at") and isinstance(value, int):
                value = f"{utc(value)} ({value})"
            elif not isinstance(value, str):
                value = orjson.dumps(value).decode()
            print(f"{name + ':':<14}{value}")
        return EXIT_OK

    return work
