"""The runner's health: is every read loop alive, and is the runner taking work?

Each read loop (:class:`~streamfn.runner.shard_reader.ShardReader`) keeps a :class:`Pulse`:
the monotonic time its last read was *answered* by Redis, the time its last round *ended*
(answered or failed), and whether it is waiting for a free slot on purpose (every slot runs
work, so no read is due).  The metrics server turns them into two answers:

* **alive** (``GET /healthz``, for a liveness probe): every loop ended a round within
  :data:`ALIVE_WITHIN_S`.  A loop whose reads fail because Redis is down or stalled still ends
  rounds (each read has a socket timeout, then a bounded backoff), so it stays alive: a
  restart would not bring Redis back.  Only a loop that stopped going round (its task ended,
  or something it awaits never returns) is dead.  While draining, the runner is alive.
* **ready** (``GET /readyz``, for a readiness probe): started, not draining, and every loop's
  last read was answered within :data:`READY_WITHIN_S` (a few BLOCK periods: an idle read
  returns empty after one).  A runner whose Redis is down or stalled stops being ready within
  that bound, and is ready again after its next answered read.

A runner with no function loaded has nothing to read; its loop sleeps one BLOCK period per
round and counts as answered (it could not take work, but there is none for it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from streamfn.loop import BACKOFF_MAX
from streamfn.runner.pulse import Pulse
from streamfn.runner.shard_reader import BLOCK_MS, READ_SOCKET_TIMEOUT_S

READY_WITHIN_S = 5 * BLOCK_MS / 1000
"""Not ready once a loop's last answered read is older than this: 2.5 s, five BLOCKs."""
ALIVE_WITHIN_S = 2 * (READ_SOCKET_TIMEOUT_S + BACKOFF_MAX)
"""Dead once a loop ended no round for this long (15 s): twice the longest a round can take
while Redis does not answer (a timed-out read, then the longest backoff)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """One probe's answer: its status word, and the state of each read loop."""

    ok: bool
    status: str
    reads: dict[str, dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "reads": self.reads}


def _reads(pulses: Mapping[str, Pulse], now: float) -> dict[str, dict[str, Any]]:
    return {
        name: {
            "answered_s_ago": round(now - p.answered, 3),
            "ended_s_ago": round(now - p.ended, 3),
            "waiting_for_slots": p.waiting,
        }
        for name, p in sorted(pulses.items())
    }


def _alive_loop(p: Pulse, now: float) -> bool:
    return p.running and (p.waiting or now - p.ended <= ALIVE_WITHIN_S)


def _answered_loop(p: Pulse, now: float) -> bool:
    return p.running and (p.waiting or now - p.answered <= READY_WITHIN_S)


def liveness(pulses: Mapping[str, Pulse], *, started: bool, draining: bool, now: float) -> Verdict:
    """Liveness: every read loop goes round (or the runner drains on purpose)."""
    reads = _reads(pulses, now)
    if draining:
        return Verdict(True, "draining", reads)
    if not started:
        return Verdict(False, "starting", reads)
    if all(_alive_loop(p, now) for p in pulses.values()):
        return Verdict(True, "ok", reads)
    return Verdict(False, "read_loop_stuck", reads)


def readiness(pulses: Mapping[str, Pulse], *, started: bool, draining: bool, now: float) -> Verdict:
    """Readiness: started, not draining, and every read loop's reads are answered."""
    reads = _reads(pulses, now)
    if draining:
        return Verdict(False, "draining", reads)
    if not started:
        return Verdict(False, "starting", reads)
    if all(_answered_loop(p, now) for p in pulses.values()):
        return Verdict(True, "ok", reads)
    if all(_alive_loop(p, now) for p in pulses.values()):
        return Verdict(False, "reads_unanswered", reads)
    return Verdict(False, "read_loop_stuck", reads)


class Probes:
    """The two answers for one runner: its read loops' pulses, and where it is in its life
    (the supervisor sets ``started`` once reading, ``draining`` on the stop request)."""

    def __init__(self, pulses: Callable[[], Mapping[str, Pulse]]) -> None:
        self.pulses = pulses
        self.started = False
        self.draining = False

    def alive(self) -> Verdict:
        return liveness(
            self.pulses(), started=self.started, draining=self.draining, now=time.monotonic()
        )

    def ready(self) -> Verdict:
        return readiness(
            self.pulses(), started=self.started, draining=self.draining, now=time.monotonic()
        )
