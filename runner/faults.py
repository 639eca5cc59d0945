"""Test-only fault switches: crash the runner at a named point, or stop renewing leases.

The fault scenarios (``tests/fault``: R4, R9, R10) need failures at exact places inside a
runner process.  Two environment variables, read once at import, arm them:

``STREAMFN_TEST_CRASH_AT=<point>[:<k>]``
    ``os._exit(CRASH_EXIT)`` the ``k``-th time (default: the first) the runner reaches
    ``<point>``, one of :data:`POINTS`.
``STREAMFN_TEST_NO_HEARTBEAT=1``
    the heartbeat never renews a lease, so long handlers are reclaimed while they run.

Unset (always, outside these tests) a hook costs one module attribute test:
``if faults.ARMED: faults.point("after_read")``.  These are not settings: they are absent
from the README table and exist only for the fault tests.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

CRASH_AT = "STREAMFN_TEST_CRASH_AT"
NO_HEARTBEAT_VAR = "STREAMFN_TEST_NO_HEARTBEAT"
CRASH_EXIT = 86  # distinctive, so a test can tell an injected crash from a real one

POINTS = {
    "after_read": "entries delivered by XREADGROUP, none started yet",
    "after_claim": "an entry claimed by the reclaimer, not started yet",
    "after_execute": "a handler returned, its outcome not yet queued for Redis",
    "after_complete": "a batch of outcomes stored and acknowledged, metrics not yet updated",
}


def parse_crash_at(raw: str) -> tuple[str, int] | None:
    """``"<point>[:<k>]"`` as ``(point, k)``; None when empty.  Raises ValueError if wrong."""
    if not raw:
        return None
    name, _, count = raw.partition(":")
    if name not in POINTS:
        raise ValueError(
            f"{CRASH_AT}={raw!r}: unknown point {name!r}; use one of {', '.join(POINTS)}, "
            "optionally followed by :<k> (crash the k-th time)"
        )
    try:
        k = int(count) if count else 1
    except ValueError:
        k = 0
    if k < 1:
        raise ValueError(f"{CRASH_AT}={raw!r}: <k> after ':' must be a whole number >= 1")
    return name, k


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


_target = parse_crash_at(os.environ.get(CRASH_AT, "").strip())
ARMED = _target is not None
NO_HEARTBEAT = _flag(os.environ, NO_HEARTBEAT_VAR)
_hits = 0


def point(name: str) -> None:
    """The runner reached ``name``: exit at once if this is the armed point's k-th hit."""
    global _hits
    if _target is None or name != _target[0]:
        return
    _hits += 1
    if _hits >= _target[1]:
        os.write(2, f"streamfn test fault: exiting at {name} (hit {_hits})\n".encode())
        os._exit(CRASH_EXIT)
