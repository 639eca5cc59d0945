"""The ``streamfn`` command: dev mode, the gateway, a runner, one-off invocations, schedules,
settings and the benchmarks.

Settings are read here, once, at the edge.  Errors a user can fix (a bad setting, a bad
argument, Redis down) end in a one-line message and an exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from streamfn import __version__, codec
from streamfn.names import is_function_name
from streamfn.settings import Settings, SettingsError

EXIT_USAGE = 2


class UsageError(Exception):
    """A bad argument: reported with exit code 2."""


def _non_negative(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number of seconds") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{raw!r} must be 0 or more seconds")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; every subcommand has its own ``--help``."""
    parser = argparse.ArgumentParser(
        prog="streamfn",
        description="Serverless-style functions over Redis Streams. "
        "Configured by STREAMFN_* environment variables (see `streamfn settings`).",
    )
    parser.add_argument("--version", action="version", version=f"streamfn {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser(
        "dev",
        help="run Redis (if none answers), a gateway and a runner together",
        description="All in one for development: uses STREAMFN_REDIS_URL if it answers, else "
        "starts a private redis-server; then a gateway and one runner watching the functions "
        "directory. Ctrl-C stops everything it started.",
    )
    # gateway and runner own their flags (and --help): main() hands them the rest of argv.
    for name, text in (
        ("gateway", "run the HTTP gateway (see streamfn gateway --help)"),
        ("runner", "run a runner: [--concurrency N] [--burst] (see streamfn runner --help)"),
        ("schedule", "schedules in Redis: add|ls|rm|pause|resume (see streamfn schedule --help)"),
        ("bench", "the load benchmarks: [WORKLOAD] [--n N] [--runners R] [--repeat K] ..."),
    ):
        sub.add_parser(name, help=text, add_help=False)

    invoke = sub.add_parser(
        "invoke",
        help="enqueue one invocation via Redis (no HTTP) and print it",
        description="Enqueue FN with a JSON payload directly in Redis and print the invocation. "
        "Exit code: 0 succeeded/queued/scheduled, 1 failed/dead/cancelled, "
        "3 the wait timed out or Redis is unreachable, 2 bad arguments, "
        "75 refused by the backlog cap (STREAMFN_MAX_BACKLOG; retry later).",
    )
    invoke.add_argument("function", metavar="FN", help="function name, e.g. echo")
    invoke.add_argument(
        "payload",
        metavar="JSON",
        nargs="?",
        default="null",
        help="payload (default null; '-' reads it from stdin)",
    )
    invoke.add_argument(
        "--wait", type=_non_negative, metavar="S", help="wait up to S seconds for the result"
    )
    invoke.add_argument(
        "--delay", type=_non_negative, default=0.0, metavar="S", help="run after S seconds"
    )

    settings = sub.add_parser(
        "settings",
        help="list every STREAMFN_* setting with its default",
        description="List every STREAMFN_* environment variable, its default and meaning.",
    )
    settings.add_argument("--markdown", action="store_true", help="print a Markdown table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``streamfn`` command; returns the exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    command = words[0] if words else ""
    try:
        if command in DELEGATED:
            # They own their flags and --help: argparse cannot pass "--flag ..." through.
            return DELEGATED[command](words[1:])
        return _dispatch(build_parser().parse_args(words))
    except SettingsError as exc:
        print(f"streamfn: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"streamfn {command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130  # the shell convention for "stopped by SIGINT"; no traceback for a Ctrl-C
    except BrokenPipeError:
        # `streamfn settings | head`: the reader left.  Point stdout at /dev/null so the
        # interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _gateway(argv: list[str]) -> int:
    from streamfn.gateway.app import main as gateway_main

    return gateway_main(argv)


def _runner(argv: list[str]) -> int:
    # The runner must never import the gateway: only this function's module is loaded.
    from streamfn.runner.supervisor import main as runner_main

    return runner_main(argv)


def _schedule(argv: list[str]) -> int:
    from streamfn.schedule_cli import main as schedule_main

    return schedule_main(argv)


BENCH_EXTRA = ("matplotlib", "tqdm")
"""What the benchmarks need beyond streamfn (bench/pyproject.toml)."""
BENCH_HINT = (
    "the benchmarks are a repository tool, not part of the streamfn package: in a clone of "
    "streamfn run `make bench-install` (or `pip install -e ./bench` in its virtualenv), "
    "then `streamfn bench --help`"
)


def _bench(argv: list[str]) -> int:
    import importlib.util

    missing = [name for name in BENCH_EXTRA if importlib.util.find_spec(name) is None]
    try:
        from bench.cli import main as bench_main
    except ImportError:
        missing.insert(0, "the bench package")
    if missing:
        print(f"streamfn bench: {', '.join(missing)} not installed; {BENCH_HINT}", file=sys.stderr)
        return EXIT_USAGE
    return bench_main(argv)


DELEGATED: dict[str, Callable[[list[str]], int]] = {
    "gateway": _gateway,
    "runner": _runner,
    "schedule": _schedule,
    "bench": _bench,
}


def _dispatch(args: argparse.Namespace) -> int:
    command: str = args.command
    if command == "settings":
        print(_settings_table(markdown=args.markdown))
        return 0
    if command == "invoke":
        return _invoke(args)
    from streamfn import dev

    return dev.run(Settings.from_env())


def _invoke(args: argparse.Namespace) -> int:
    from streamfn.invoke import invoke

    if not is_function_name(args.function):
        raise UsageError(
            f"invalid function name {args.function!r}: use lower-case letters, digits and '_', "
            "starting with a letter, at most 64 characters"
        )
    payload = _parse_payload(args.payload)
    settings = Settings.from_env()
    return asyncio.run(invoke(settings, args.function, payload, wait=args.wait, delay=args.delay))


def _parse_payload(raw: str) -> Any:
    text = sys.stdin.read() if raw == "-" else raw
    try:
        return codec.loads(text)
    except codec.JSONDecodeError as exc:
        raise UsageError(f"invalid JSON payload ({exc}): quote it, e.g. '{{\"a\": 1}}'") from None


def _settings_table(*, markdown: bool) -> str:
    rows = Settings.table()
    if markdown:
        lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
        lines += [f"| `{env}` | `{default}` | {doc} |" for env, default, doc in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    return "\n".join(
        f"{env:<{widths[0]}}  {default:<{widths[1]}}  {doc}" for env, default, doc in rows
    )
