"""``streamfn gateway``, ``streamfn runner`` and ``streamfn scheduler``: the long-running
server processes.

Each parses its own flags (with its own ``--help``), reads settings once, sets up logging and
the event loop, and turns SIGINT/SIGTERM into a graceful stop (:mod:`streamfn.cli.edge`).
A bad setting reaches :func:`streamfn.cli.main` as :class:`~streamfn.settings.SettingsError`
(one line, exit 2).  Each command imports only its own side, inside the function: a runner
process never loads the gateway, nor a gateway the runner.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

from streamfn.cli import edge
from streamfn.settings import Settings

if TYPE_CHECKING:
    from streamfn.runner.faults import Faults
    from streamfn.runner.supervisor import Runner


def gateway_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamfn gateway",
        description="Run the HTTP gateway. Settings come from STREAMFN_* variables.",
    )
    parser.add_argument("--host", help="bind address (default: STREAMFN_HOST)")
    parser.add_argument("--port", type=edge.port, help="port, 0 for any (default: STREAMFN_PORT)")
    parser.add_argument("--access-log", action="store_true", help="log every request (slower)")
    return parser


def gateway(argv: list[str]) -> int:
    """Run the gateway until SIGINT/SIGTERM; flags override host and port; exit code."""
    args = gateway_parser().parse_args(argv)
    settings = Settings.from_env()
    if args.host is not None:
        settings = replace(settings, host=args.host)
    if args.port is not None:
        settings = replace(settings, port=args.port)
    edge.setup_logging(settings.log_level)
    edge.run(_serve_gateway(settings, access_log=args.access_log))
    return edge.EXIT_OK


async def _serve_gateway(settings: Settings, *, access_log: bool) -> None:
    from streamfn.gateway.server import serve

    stop = asyncio.Event()
    async with edge.StopSignals(stop.set):
        await serve(settings, stop, access_log=access_log)


def runner_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamfn runner",
        description="Run the handlers in STREAMFN_FUNCTIONS_DIR (settings: STREAMFN_* env).",
    )
    parser.add_argument(
        "--concurrency",
        type=edge.positive_int,
        default=None,
        help="invocations run at once (default: STREAMFN_CONCURRENCY)",
    )
    parser.add_argument(
        "--burst",
        action="store_true",
        help="exit 0 once every stream is drained and nothing runs (timers not yet due are "
        "not waited for)",
    )
    return parser


def runner(argv: list[str], *, faults: Faults | None = None) -> int:
    """Run a runner until SIGTERM/SIGINT (or, with ``--burst``, until drained); exit code.

    ``faults``: an armed fault injector (:mod:`streamfn.runner.faults`), which only the fault
    tests' launcher passes; ``streamfn runner`` runs with none.
    """
    from streamfn.runner.faults import NO_FAULTS
    from streamfn.runner.supervisor import Runner

    args = runner_parser().parse_args(argv)
    settings = Settings.from_env()
    edge.setup_logging(settings.log_level)
    runner = Runner(
        settings,
        concurrency=args.concurrency,
        burst=args.burst,
        faults=NO_FAULTS if faults is None else faults,
    )
    code = edge.run(_serve_runner(runner))
    if runner.threads_left:
        # Handler threads cannot be stopped and would keep the interpreter from exiting;
        # their entries were handed back already.
        logging.getLogger("streamfn.runner").warning(
            "sync handlers are still running in threads; exiting without them"
        )
        logging.shutdown()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    return code


async def _serve_runner(runner: Runner) -> int:
    # The first signal stops taking work; Runner.request_stop treats a second as "force".
    async with edge.StopSignals(runner.request_stop):
        return await runner.serve()


def scheduler_parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog="streamfn scheduler",
        description="Promote due timers and fire due schedules into their streams, with no "
        "runner needed (runners do it too; any number of each is safe). Settings come from "
        "STREAMFN_* variables.",
    )


def scheduler(argv: list[str]) -> int:
    """Run the scheduler until SIGINT/SIGTERM; exit code."""
    scheduler_parser().parse_args(argv)
    settings = Settings.from_env()
    edge.setup_logging(settings.log_level)
    edge.run(_serve_scheduler(settings))
    return edge.EXIT_OK


async def _serve_scheduler(settings: Settings) -> None:
    from streamfn.timekeeping.scheduler import Scheduler

    stop = asyncio.Event()
    async with edge.StopSignals(stop.set):
        await Scheduler(settings).serve(stop)
