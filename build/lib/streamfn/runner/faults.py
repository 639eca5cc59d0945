"""Where a fault test may break a runner: named crash points, and lease renewal.

The fault scenarios (``tests/fault``: R4, R9) need failures at exact places inside a real
runner process.  The :class:`~streamfn.runner.supervisor.Runner` takes a :class:`Faults`
object at construction and hands it to the parts that reach a point; the default,
:data:`NO_FAULTS`, breaks nothing and is what ``streamfn runner`` uses.  The fault tests
start runner processes through their own launcher (``tests/fault/faulty_runner.py``), which
runs the same command code with an armed subclass.  Nothing here reads the environment.

Each hook tests :attr:`Faults.armed` before calling :meth:`Faults.point`, so an unarmed
runner pays one attribute test per hook.
"""

from __future__ import annotations

POINTS = {
    "after_read": "entries delivered by XREADGROUP, none started yet",
    "after_claim": "an entry claimed by the reclaimer, not started yet",
    "after_execute": "a handler returned, its outcome not yet queued for Redis",
    "after_complete": "a batch of outcomes stored and acknowledged, metrics not yet updated",
}
"""The crash points, each where the runner calls :meth:`Faults.point`."""


class Faults:
    """No faults (the default).  A fault test overrides what it needs."""

    armed = False
    """True: :meth:`point` is called at each of :data:`POINTS`."""
    renew_leases = True
    """False: the heartbeat never renews a lease, so long handlers are reclaimed mid-run."""

    def point(self, name: str) -> None:
        """The runner reached ``name``, one of :data:`POINTS` (only called when armed)."""


NO_FAULTS = Faults()
