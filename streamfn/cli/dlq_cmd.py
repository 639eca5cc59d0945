"""``streamfn dlq ls|replay|rm`` and ``streamfn cancel``: dead letters and cancels, straight
from Redis (no HTTP), as ``GET /dead-letters``, ``POST /dead-letters/{id}/replay``,
``DELETE /dead-letters/{id}`` and ``DELETE /invocations/{id}`` do.

``replay`` and ``rm`` take ids, or ``--all --function FN`` for every dead letter of a
function (``--dry-run`` prints what they would touch and changes nothing).  Each id is one
atomic script call, so a second run, or a run racing another, never replays or deletes one
twice: an id no longer dead is reported and skipped.  Exit codes: 0 every id done, 1 some
refused (not dead, not found, already finished), 2 bad arguments, 3 Redis unreachable.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from redis.exceptions import RedisError

from streamfn.cli import edge
from streamfn.client import Client
from streamfn.connection import make_redis
from streamfn.names import INVOCATION_ID_RE, is_function_name
from streamfn.redis_url import redact
from streamfn.settings import Settings

EXIT_OK = edge.EXIT_OK
EXIT_REFUSED = 1
EXIT_USAGE = edge.EXIT_USAGE
EXIT_UNAVAILABLE = 3
BULK_MAX = 10_000  # dead letters one --all run reads (the stream is capped anyway)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamfn dlq",
        description="Dead letters, straight from Redis. Exit code: 0 done, 1 some refused, "
        "2 bad arguments, 3 Redis unreachable.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    ls = actions.add_parser("ls", help="list a function's dead letters, newest first")
    ls.add_argument("--function", required=True, metavar="FN", help="function name")
    ls.add_argument("--limit", type=edge.positive_int, default=100, metavar="N")
    ls.add_argument("--json", action="store_true", help="print JSON, as GET /dead-letters")
    for name, text in (
        ("replay", "queue dead invocations again, with a fresh attempt budget"),
        ("rm", "delete dead invocations for good: their dead letters and records"),
    ):
        act = actions.add_parser(name, help=text, description=text)
        act.add_argument("ids", metavar="ID", nargs="*", help="invocation id")
        act.add_argument("--all", action="store_true", help="every dead letter of --function")
        act.add_argument("--function", metavar="FN", help="with --all: whose dead letters")
        act.add_argument("--dry-run", action="store_true", help="print the ids, change nothing")
        act.add_argument("--json", action="store_true", help="print one JSON object per id")
    return parser


def build_cancel_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamfn cancel",
        description="Cancel invocations that have not finished, as DELETE /invocations/{id}: "
        "a queued or scheduled one never runs; a running one is asked to stop. Exit code: "
        "0 every id cancelled or stopping, 1 some already finished or unknown, "
        "2 bad arguments, 3 Redis unreachable.",
    )
    parser.add_argument("ids", metavar="ID", nargs="+", help="invocation id")
    parser.add_argument("--json", action="store_true", help="print one JSON object per id")
    return parser


def main(argv: list[str]) -> int:
    """``streamfn dlq ARGV``: parse, read settings (``STREAMFN_*``), run; exit code."""
    return run(build_parser().parse_args(argv), Settings.from_env())


def cancel_main(argv: list[str]) -> int:
    """``streamfn cancel ARGV``."""
    return run_cancel(build_cancel_parser().parse_args(argv), Settings.from_env())


def run(args: argparse.Namespace, settings: Settings) -> int:
    problem = _check(args)
    if problem:
        print(f"streamfn dlq {args.action}: {problem}", file=sys.stderr)
        return EXIT_USAGE
    return _run(settings, lambda client: _dlq(client, args))


def run_cancel(args: argparse.Namespace, settings: Settings) -> int:
    problem = _bad_ids(args.ids)
    if problem:
        print(f"streamfn cancel: {problem}", file=sys.stderr)
        return EXIT_USAGE
    return _run(settings, lambda client: _cancel(client, args))


def _bad_ids(ids: list[str]) -> str | None:
    for i in ids:
        if INVOCATION_ID_RE.fullmatch(i) is None:
            return f"invalid invocation id {i!r}: ids look like <function>.<24 hex digits>"
    return None


def _check(args: argparse.Namespace) -> str | None:
    function = getattr(args, "function", None)
    if function is not None and not is_function_name(function):
        return f"invalid function name {function!r}"
    if args.action == "ls":
        return None
    if args.all == bool(args.ids):
        return "give invocation ids, or --all --function FN (not both)"
    if args.all and function is None:
        return "--all needs --function FN"
    return _bad_ids(args.ids)


def _run(settings: Settings, work: Callable[[Client], Awaitable[int]]) -> int:
    async def with_client() -> int:
        redis = make_redis(settings, max_connections=4)
        client = Client(redis, settings)
        try:
            await client.start()
            return await work(client)
        finally:
            await client.close()
            await redis.aclose()

    try:
        return edge.run(with_client())
    except (RedisError, OSError) as exc:
        print(
            f"streamfn: cannot use Redis at {redact(settings.redis_url)} ({exc}): "
            "start Redis or set STREAMFN_REDIS_URL",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE


def _print(row: dict[str, Any], *, json: bool, text: str) -> None:
    print(orjson.dumps(row).decode() if json else text)


async def _dlq(client: Client, args: argparse.Namespace) -> int:
    if args.action == "ls":
        letters = await client.dead_letters(args.function, args.limit)
        rows = [d.to_json() for d in letters]
        if args.json:
            body = {"function": args.function, "dead_letters": rows}
            sys.stdout.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n")
            return EXIT_OK
        for d in rows:
            error = d["error"] or {}
            print(
                f"{d['id']}  attempts {d['attempts']}  {error.get('type', '-')}: "
                f"{error.get('message', '')}"
            )
        print(f"{len(rows)} dead letters of {args.function}", file=sys.stderr)
        return EXIT_OK
    ids = list(args.ids)
    if args.all:
        ids = [d.invocation_id for d in await client.dead_letters(args.function, BULK_MAX)]
    if args.dry_run:
        for i in ids:
            _print({"id": i, "would": args.action}, json=args.json, text=f"would {args.action} {i}")
        print(f"{len(ids)} dead letters would be touched", file=sys.stderr)
        return EXIT_OK
    act = client.replay if args.action == "replay" else client.discard
    done_word = "replayed" if args.action == "replay" else "deleted"
    refused = 0
    for n, i in enumerate(ids, 1):
        ok, detail = await act(i)
        refused += not ok
        row = {"id": i, "done": ok, "detail": detail}
        _print(row, json=args.json, text=f"{done_word} {i}" if ok else f"skipped {i}: {detail}")
        if not args.json and len(ids) > 1:
            print(f"\r{n}/{len(ids)}", end="", file=sys.stderr, flush=True)
    if not args.json and len(ids) > 1:
        print(file=sys.stderr)
    print(f"{len(ids) - refused} {done_word}, {refused} skipped", file=sys.stderr)
    return EXIT_REFUSED if refused else EXIT_OK


async def _cancel(client: Client, args: argparse.Namespace) -> int:
    refused = 0
    for i in args.ids:
        ok, status = await client.stop(i)
        refused += not ok
        row = {"id": i, "cancelled": ok, "status": status}
        _print(
            row, json=args.json, text=f"{i}: {status}" if ok else f"{i}: not cancelled ({status})"
        )
    return EXIT_REFUSED if refused else EXIT_OK
