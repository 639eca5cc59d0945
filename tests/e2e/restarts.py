"""Runner restarts under load: a client posting steadily while every runner is replaced.

Shared by the end-to-end tests of deployed functions (``test_runner_restarts.py``); each
scenario returns its figures (what the client was answered, what was lost), which the tests
print before they check them, so a run on any branch measures the same thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.launch import Child
from streamfn.settings import Settings
from tests.fault.checker import final_statuses
from tests.fault.load import Load
from tests.support.procs import start_runner, wait_until

ECHO = "async def handle(payload, ctx):\n    return payload\n"
RATE = 100.0
"""Invocations per second the client posts while runners restart."""


@dataclass
class Figures:
    """What one scenario's client saw, and what became of what it was answered 202 for."""

    scenario: str
    sent: int = 0
    answers: Counter[str] = field(default_factory=Counter)  # "202", "404 unknown_function", ...
    refused: int = 0  # every answer that is not 2xx, and every request that got no answer
    acked: int = 0
    lost: int = 0  # answered 202, not succeeded once runners were back
    waited_202: int = 0  # ?wait= requests answered 202 (no runner finished them in time)
    seconds: float = 0.0

    def line(self) -> str:
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(self.answers.items()))
        return (
            f"{self.scenario}: {self.sent} requests in {self.seconds:.1f} s, refused "
            f"{self.refused} ({answers}); acked {self.acked}, lost {self.lost}"
        )


class Client:
    """Posts about :data:`RATE` invocations a second until stopped; every answer is kept."""

    def __init__(self, load: Load, rate: float = RATE) -> None:
        self.load = load
        self.rate = rate
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._started = 0.0
        self.seconds = 0.0

    async def __aenter__(self) -> Client:
        self._started = time.monotonic()
        self._task = asyncio.create_task(self._post())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        self.seconds = time.monotonic() - self._started

    async def _post(self) -> None:
        sent: list[asyncio.Task[str | None]] = []
        interval = 1.0 / self.rate
        next_at = time.monotonic()
        while not self._stop.is_set():
            sent.append(asyncio.create_task(self.load.invoke({"n": len(sent)})))
            next_at += interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), max(0.0, next_at - time.monotonic()))
        await asyncio.gather(*sent)


async def runner_reported(redis: Redis, keys: Keys, runner: Child) -> bool:
    """True once ``runner`` (a process) has a live report: runner ids are ``host-pid-hex``."""
    members: set[bytes] = await redis.smembers(keys.runners)  # type: ignore[assignment]
    for member in members:
        runner_id = member.decode()
        if runner_id.rsplit("-", 2)[1] == str(runner.pid) and await redis.exists(
            keys.runner(runner_id)
        ):
            return True
    return False


async def exited(runner: Child, timeout: float) -> None:
    code = await asyncio.to_thread(runner.wait, timeout)
    assert code is not None, f"runner {runner.pid} did not stop within {timeout} s"


async def replace_each(
    settings: Settings,
    tmp_path: Path,
    procs: list[Child],
    redis: Redis,
    runners: list[Child],
    *,
    wait_reported: bool,
) -> list[Child]:
    """A rolling restart: SIGTERM each runner in turn and start its replacement; the next goes
    once the one stopped has exited and, when ``wait_reported``, its replacement has reported
    (a rollout that waits for readiness); without it the next goes at once (no readiness
    check, as a Deployment whose runners have no readiness probe).  Returns the new runners."""
    keys = Keys.of(settings)
    fresh: list[Child] = []
    for old in runners:
        old.terminate()
        new = start_runner(settings, tmp_path)
        procs.append(new)
        fresh.append(new)
        await exited(old, settings.shutdown_grace + 10)
        if wait_reported:
            await wait_until(
                functools.partial(runner_reported, redis, keys, new),
                30,
                interval=0.05,
                what=f"replacement runner {new.pid} reported",
            )
    return fresh


async def settle(redis: Redis, keys: Keys, figures: Figures, load: Load, timeout: float) -> None:
    """Wait (bounded) until every acknowledged invocation succeeded; count the rest as lost."""
    ids = list(load.history.acked)

    async def done() -> bool:
        statuses = await final_statuses(redis, keys, ids)
        return all(s == "succeeded" for s in statuses.values())

    with contextlib.suppress(AssertionError):
        await wait_until(done, timeout, interval=0.2, what="every acked invocation succeeded")
    statuses = await final_statuses(redis, keys, ids)
    figures.acked = len(ids)
    figures.lost = sum(1 for s in statuses.values() if s != "succeeded")


def tally(figures: Figures, load: Load, seconds: float) -> Figures:
    history = load.history
    figures.seconds = seconds
    figures.sent = sum(history.statuses.values()) + sum(history.errors.values())
    figures.answers = Counter({"202": history.statuses.get(202, 0)})
    figures.answers.update(history.codes)
    figures.answers.update({f"no answer ({e})": n for e, n in history.errors.items()})
    figures.refused = figures.sent - sum(n for s, n in history.statuses.items() if 200 <= s < 300)
    return figures
