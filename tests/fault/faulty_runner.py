"""A runner process with a fault armed: ``python -m tests.fault.faulty_runner [FAULTS] [ARGS]``.

``--crash-at <point>[:<k>]``
    ``os._exit(CRASH_EXIT)`` the ``k``-th time (default: the first) the runner reaches
    ``<point>``, one of :data:`streamfn.runner.faults.POINTS`.
``--no-heartbeat``
    the heartbeat never renews a lease, so long handlers are reclaimed while they run.

Every other argument goes to ``streamfn runner`` (``--concurrency``, ``--burst``), and the
process runs exactly that command's code (:func:`streamfn.cli.serve_cmd.runner`: settings
from the environment, logging, signals, exit code); only the runner's :class:`Faults` differs.
The product itself has no switch for this.
"""

from __future__ import annotations

import argparse
import os
import sys

from streamfn.cli import serve_cmd
from streamfn.runner.faults import POINTS, Faults

CRASH_EXIT = 86  # distinctive, so a test can tell an injected crash from a real one


def parse_crash_at(raw: str) -> tuple[str, int] | None:
    """``"<point>[:<k>]"`` as ``(point, k)``; None when empty.  Raises ValueError if wrong."""
    if not raw:
        return None
    name, _, count = raw.partition(":")
    if name not in POINTS:
        raise ValueError(
            f"--crash-at {raw!r}: unknown point {name!r}; use one of {', '.join(POINTS)}, "
            "optionally followed by :<k> (crash the k-th time)"
        )
    try:
        k = int(count) if count else 1
    except ValueError:
        k = 0
    if k < 1:
        raise ValueError(f"--crash-at {raw!r}: <k> after ':' must be a whole number >= 1")
    return name, k


class Armed(Faults):
    """Crash at ``crash_at`` = (point, k), and/or renew no lease."""

    def __init__(self, crash_at: tuple[str, int] | None, *, renew_leases: bool = True) -> None:
        self.crash_at = crash_at
        self.armed = crash_at is not None
        self.renew_leases = renew_leases
        self.hits = 0

    def point(self, name: str) -> None:
        if self.crash_at is None or name != self.crash_at[0]:
            return
        self.hits += 1
        if self.hits >= self.crash_at[1]:
            os.write(2, f"streamfn test fault: exiting at {name} (hit {self.hits})\n".encode())
            os._exit(CRASH_EXIT)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fault.faulty_runner",
        description="streamfn runner with a fault armed; other arguments go to streamfn runner",
    )
    parser.add_argument("--crash-at", default="", metavar="POINT[:K]", help=", ".join(POINTS))
    parser.add_argument("--no-heartbeat", action="store_true", help="never renew a lease")
    return parser


def faults_of(argv: list[str]) -> tuple[Armed, list[str]]:
    """The armed faults in ``argv``, and the arguments left for ``streamfn runner``."""
    args, rest = parser().parse_known_args(argv)
    try:
        crash_at = parse_crash_at(args.crash_at)
    except ValueError as exc:
        parser().error(str(exc))
    return Armed(crash_at, renew_leases=not args.no_heartbeat), rest


def main(argv: list[str] | None = None) -> int:
    faults, rest = faults_of(sys.argv[1:] if argv is None else argv)
    return serve_cmd.runner(rest, faults=faults)


if __name__ == "__main__":
    sys.exit(main())
