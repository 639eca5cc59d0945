"""A function's retry, timeout and isolation policy, read from its module-level constants.

``TIMEOUT``, ``RETRIES``, ``BACKOFF``, ``BACKOFF_MAX``, ``DEAD_LETTER``, ``ISOLATE``,
``MEMORY_MB``, ``WORKERS`` and ``PARTITIONS`` are optional; a wrong type or an out-of-range
value raises :class:`PolicyError` naming the constant, the value and what it accepts, so the
file is reported instead of loaded with a surprising policy.

``ISOLATE = True`` runs the handler in a pool of child processes (:mod:`runner.isolation`),
which the runner can kill: the only way to enforce a timeout on code that spins, blocks or
crashes.  ``PARTITIONS`` (1 to 16) spreads the function's work over that many queues, each in
its own hash tag (:mod:`streamfn.partitions`).  Plain ``def`` handlers default to
``STREAMFN_ISOLATE_SYNC``; ``async def`` ones to in-process (they can be cancelled).
``MEMORY_MB`` caps a worker's address space and ``WORKERS`` the processes one function may use
at once; both need isolation.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from streamfn.partitions import MAX_PARTITIONS
from streamfn.settings import Settings

DEFAULT_BACKOFF = 1.0
DEFAULT_BACKOFF_MAX = 300.0

_MAX_TIMEOUT = 7 * 86400.0
_MAX_RETRIES = 1000
_MAX_BACKOFF = 7 * 86400.0
DEFAULT_WORKERS = 4
_MAX_WORKERS = 256
# The interpreter and its imports already map ~30 MB; less than this cannot even start.
_MIN_MEMORY_MB = 64
_MAX_MEMORY_MB = 1024 * 1024


class PolicyError(ValueError):
    """A policy constant holds a value the runner cannot use."""


@dataclass(frozen=True, slots=True)
class Policy:
    """Times in seconds; the ``*_ms`` properties are the units the fail script takes."""

    timeout: float
    retries: int
    backoff: float
    backoff_max: float
    dead_letter: bool
    isolate: bool = False
    memory_mb: int | None = None
    workers: int = DEFAULT_WORKERS
    partitions: int = 1

    @property
    def max_attempts(self) -> int:
        return self.retries + 1

    @property
    def backoff_base_ms(self) -> int:
        return int(self.backoff * 1000)

    @property
    def backoff_cap_ms(self) -> int:
        return int(self.backoff_max * 1000)

    def to_report(self) -> dict[str, Any]:
        """The policy as published in the runner's registry report (kind is added by caller)."""
        return {
            "timeout": self.timeout,
            "retries": self.retries,
            "backoff": self.backoff,
            "backoff_max": self.backoff_max,
            "dead_letter": self.dead_letter,
            "isolate": self.isolate,
            "memory_mb": self.memory_mb,
            "partitions": self.partitions,
        }


def _number(name: str, value: Any, *, low: float, high: float, low_inclusive: bool) -> float:
    # bool is an int subclass: TIMEOUT = True is a mistake, not one second.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PolicyError(
            f"{name} = {value!r} is a {type(value).__name__}; set it to a number of seconds"
        )
    ok_low = value >= low if low_inclusive else value > low
    if not (ok_low and value <= high) or value != value:  # value != value: NaN
        bound = ">=" if low_inclusive else ">"
        raise PolicyError(
            f"{name} = {value!r} is out of range; use a number {bound} {low:g} "
            f"and <= {high:g} (seconds)"
        )
    return float(value)


def _whole(name: str, value: Any, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(
            f"{name} = {value!r} is a {type(value).__name__}; set it to a whole number "
            f"from {low} to {high} ({what})"
        )
    if not low <= value <= high:
        raise PolicyError(f"{name} = {value!r} is out of range; use {low} to {high} ({what})")
    return value


def _isolation(
    module: ModuleType, settings: Settings, is_async: bool
) -> tuple[bool, int | None, int]:
    isolate = getattr(module, "ISOLATE", None)
    if isolate is None:
        isolate = settings.isolate_sync and not is_async
    elif not isinstance(isolate, bool):
        raise PolicyError(
            f"ISOLATE = {isolate!r} is a {type(isolate).__name__}; set it to True (run in a "
            "child process the runner can kill) or False (run inside the runner)"
        )
    memory = getattr(module, "MEMORY_MB", None)
    workers = getattr(module, "WORKERS", DEFAULT_WORKERS)
    if memory is not None:
        memory = _whole("MEMORY_MB", memory, _MIN_MEMORY_MB, _MAX_MEMORY_MB, "megabytes")
    workers = _whole("WORKERS", workers, 1, _MAX_WORKERS, "processes")
    if not isolate and memory is not None:
        raise PolicyError(
            "MEMORY_MB needs ISOLATE = True: a memory limit can only be enforced on a child "
            "process; add ISOLATE = True or remove MEMORY_MB"
        )
    return isolate, memory, workers


def parse_policy(module: ModuleType, settings: Settings, *, is_async: bool = True) -> Policy:
    """The module's policy, with settings' defaults for what it leaves out.

    ``is_async`` picks the isolation default: ``STREAMFN_ISOLATE_SYNC`` for plain ``def``
    handlers, in-process for ``async def`` ones.
    """
    timeout = getattr(module, "TIMEOUT", settings.default_timeout)
    retries = getattr(module, "RETRIES", settings.default_retries)
    backoff = getattr(module, "BACKOFF", DEFAULT_BACKOFF)
    backoff_max = getattr(module, "BACKOFF_MAX", DEFAULT_BACKOFF_MAX)
    dead_letter = getattr(module, "DEAD_LETTER", True)

    timeout_s = _number("TIMEOUT", timeout, low=0, high=_MAX_TIMEOUT, low_inclusive=False)
    if isinstance(retries, bool) or not isinstance(retries, int):
        raise PolicyError(
            f"RETRIES = {retries!r} is a {type(retries).__name__}; set it to a whole number "
            f"from 0 to {_MAX_RETRIES}"
        )
    if not 0 <= retries <= _MAX_RETRIES:
        raise PolicyError(f"RETRIES = {retries!r} is out of range; use 0 to {_MAX_RETRIES}")
    backoff_s = _number("BACKOFF", backoff, low=0, high=_MAX_BACKOFF, low_inclusive=True)
    cap_s = _number("BACKOFF_MAX", backoff_max, low=0, high=_MAX_BACKOFF, low_inclusive=False)
    if cap_s < backoff_s:
        raise PolicyError(
            f"BACKOFF_MAX = {backoff_max!r} is below BACKOFF = {backoff!r}; "
            "make BACKOFF_MAX at least BACKOFF"
        )
    if not isinstance(dead_letter, bool):
        raise PolicyError(
            f"DEAD_LETTER = {dead_letter!r} is a {type(dead_letter).__name__}; "
            "set it to True or False"
        )
    isolate, memory_mb, workers = _isolation(module, settings, is_async)
    partitions = _whole(
        "PARTITIONS",
        getattr(module, "PARTITIONS", 1),
        1,
        MAX_PARTITIONS,
        "queues, one per hash tag",
    )
    return Policy(
        timeout_s, retries, backoff_s, cap_s, dead_letter, isolate, memory_mb, workers, partitions
    )
