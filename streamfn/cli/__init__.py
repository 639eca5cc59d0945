"""The ``streamfn`` command: dev mode, the gateway, a runner, the scheduler, one-off
invocations, schedules, deployed functions, runners, pausing, dead letters, cancels, gateway
tokens, settings and the benchmarks.

This package is the CLI layer: the only code that imports both :mod:`streamfn.gateway` and
:mod:`streamfn.runner` (each command loads only what it runs).  Here are the root parser
and :func:`main`; each command group has its module (``dev_cmd``, ``serve_cmd`` for gateway,
runner and scheduler, ``invoke_cmd``, ``schedule_cmd``, ``functions_cmd``, ``operate_cmd``
for runners, pause and resume, ``dlq_cmd`` for dlq and cancel, ``inspect_cmd`` for ls and
show, ``logs_cmd``, ``tokens_cmd``, ``bench_cmd``), and :mod:`streamfn.cli.edge` holds what
every entry point shares: argument types, event loop, logging, signals, exit codes.

Settings are read once, at the edge.  Errors a user can fix (a bad setting, a bad argument,
Redis down) end in a one-line message and an exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from streamfn import __version__
from streamfn.cli import edge
from streamfn.cli.edge import EXIT_USAGE, UsageError
from streamfn.settings import Settings, SettingsError


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
        help="run Redis (if none answers), a gateway, a runner and the scheduler together",
        description="All in one for development: uses STREAMFN_REDIS_URL if it answers, else "
        "starts a private redis-server; then a gateway, one runner watching the functions "
        "directory and the scheduler. Ctrl-C stops everything it started.",
    )
    # gateway and runner own their flags (and --help): main() hands them the rest of argv.
    for name, text in (
        ("gateway", "run the HTTP gateway (see streamfn gateway --help)"),
        ("runner", "run a runner: [--concurrency N] [--burst] (see streamfn runner --help)"),
        ("scheduler", "promote timers and fire schedules with no runner live (see --help)"),
        ("schedule", "schedules in Redis: add|ls|rm|pause|resume (see streamfn schedule --help)"),
        ("functions", "deployed functions in Redis: ls|rm (see streamfn functions --help)"),
        ("ls", "list invocations: [--function FN] [--status S] [--since 15m] [--limit N] [--json]"),
        ("show", "show one invocation with its payload: ID [--json]"),
        ("dlq", "dead letters in Redis: ls|replay|rm [--all --function FN --dry-run]"),
        ("cancel", "cancel invocations that have not finished: ID... (see --help)"),
        ("tokens", "gateway tokens: new|check (see streamfn tokens --help)"),
        ("runners", "the live runners and orphaned work, from Redis: [--json]"),
        ("pause", "pause FN: invocations are accepted, runners start none of its work"),
        ("resume", "resume FN: runners take its work again"),
        ("logs", "what an invocation logged: ID [--follow] [--json] (see streamfn logs --help)"),
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
        "--wait", type=edge.seconds, metavar="S", help="wait up to S seconds for the result"
    )
    invoke.add_argument(
        "--delay", type=edge.seconds, default=0.0, metavar="S", help="run after S seconds"
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
        print(f"streamfn {command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"streamfn {command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return edge.EXIT_INTERRUPTED  # no traceback for a Ctrl-C
    except BrokenPipeError:
        # `streamfn settings | head`: the reader left.  Point stdout at /dev/null so the
        # interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _gateway(argv: list[str]) -> int:
    from streamfn.cli import serve_cmd

    return serve_cmd.gateway(argv)


def _runner(argv: list[str]) -> int:
    from streamfn.cli import serve_cmd

    return serve_cmd.runner(argv)


def _scheduler(argv: list[str]) -> int:
    from streamfn.cli import serve_cmd

    return serve_cmd.scheduler(argv)


def _schedule(argv: list[str]) -> int:
    from streamfn.cli import schedule_cmd

    return schedule_cmd.main(argv)


def _functions(argv: list[str]) -> int:
    from streamfn.cli import functions_cmd

    return functions_cmd.main(argv)


def _ls(argv: list[str]) -> int:
    from streamfn.cli import inspect_cmd

    return inspect_cmd.ls(argv)


def _show(argv: list[str]) -> int:
    from streamfn.cli import inspect_cmd

    return inspect_cmd.show(argv)


def _dlq(argv: list[str]) -> int:
    from streamfn.cli import dlq_cmd

    return dlq_cmd.main(argv)


def _cancel(argv: list[str]) -> int:
    from streamfn.cli import dlq_cmd

    return dlq_cmd.cancel_main(argv)


def _tokens(argv: list[str]) -> int:
    from streamfn.cli import tokens_cmd

    return tokens_cmd.main(argv)


def _runners(argv: list[str]) -> int:
    from streamfn.cli import operate_cmd

    return operate_cmd.runners_main(argv)


def _pause(argv: list[str]) -> int:
    from streamfn.cli import operate_cmd

    return operate_cmd.pause_main(argv)


def _resume(argv: list[str]) -> int:
    from streamfn.cli import operate_cmd

    return operate_cmd.resume_main(argv)


def _logs(argv: list[str]) -> int:
    from streamfn.cli import logs_cmd

    return logs_cmd.main(argv)


def _bench(argv: list[str]) -> int:
    from streamfn.cli import bench_cmd

    return bench_cmd.main(argv)


DELEGATED: dict[str, Callable[[list[str]], int]] = {
    "gateway": _gateway,
    "runner": _runner,
    "scheduler": _scheduler,
    "schedule": _schedule,
    "functions": _functions,
    "ls": _ls,
    "show": _show,
    "dlq": _dlq,
    "cancel": _cancel,
    "tokens": _tokens,
    "runners": _runners,
    "pause": _pause,
    "resume": _resume,
    "logs": _logs,
    "bench": _bench,
}


def _dispatch(args: argparse.Namespace) -> int:
    command: str = args.command
    if command == "settings":
        print(_settings_table(markdown=args.markdown))
        return edge.EXIT_OK
    if command == "invoke":
        from streamfn.cli import invoke_cmd

        return invoke_cmd.run(args)
    from streamfn.cli import dev_cmd

    return dev_cmd.run(Settings.from_env())


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
