"""R10: a poison invocation whose handler kills the runner (in-process, ``ISOLATE = False``).

One poison payload among ~1,000 normal ones; the handler ``os._exit``s the whole runner when
it sees it.  The test is the supervisor: it restarts a runner that died, a bounded number of
times.  Hard: the poison runs at most ``STREAMFN_MAX_DELIVERIES`` times and is then
dead-lettered without running (the delivery count is checked before execution); every
normal invocation succeeds (lost = 0), although each crash also took down the normal work
that runner held; runner crashes <= ``STREAMFN_MAX_DELIVERIES``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import textwrap
import time
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from streamfn.client import Client
from tests.fault.checker import check, final_statuses
from tests.fault.conftest import MakeStack
from tests.fault.figures import record
from tests.fault.harness import Stack, eventually

pytestmark = pytest.mark.fault

NORMAL = 1000
# Short jobs: the normal work is done long before the poison comes back, so each reclaim
# takes the poison together with all the normal entries its first crash took down (without
# the last-chance rule those would be dead-lettered with it).
SLEEP = 0.1
MAX_DELIVERIES = 3
RUNNERS = 2
POISON_EXIT = 70
RESTARTS = 2 * MAX_DELIVERIES  # the supervisor gives up after this many restarts
FINAL = {"succeeded", "failed", "dead", "cancelled"}

# Same log format as tests/fault/probe.py, so read_executions counts both kinds of run.
SOURCE = f'''
"""poison: os._exits the runner on {{"poison": true}}; records every run to PROBE_FILE."""
import asyncio, os, time

ISOLATE = False
TIMEOUT = 30
_fd = os.open(os.environ["PROBE_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)


def _note(kind, ctx):
    line = f"{{kind}} {{ctx.invocation_id}} {{ctx.attempt}} {{os.getpid()}} {{time.time():.6f}}\\n"
    os.write(_fd, line.encode())


async def handle(payload, ctx):
    _note("S", ctx)
    if payload.get("poison"):
        os._exit({POISON_EXIT})
    await asyncio.sleep(payload.get("sleep", 0))
    _note("E", ctx)
    return {{"pid": os.getpid()}}
'''


class Supervisor:
    """Keeps ``RUNNERS`` runners up: a runner that exits is counted and started again."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.env = {"STREAMFN_MAX_DELIVERIES": str(MAX_DELIVERIES)}
        self.live = [stack.start_runner(**self.env) for _ in range(RUNNERS)]
        self.exits: list[tuple[float, int | None]] = []

    async def watch(self) -> None:
        while True:
            for i, proc in enumerate(self.live):
                if not proc.alive() and len(self.exits) < RESTARTS:
                    self.exits.append((time.time(), proc.popen.returncode))
                    self.live[i] = self.stack.start_runner(**self.env)
            await asyncio.sleep(0.05)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Supervisor]:
        task = asyncio.create_task(self.watch())
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _longest_gap(ends: list[float]) -> float:
    """Longest time between two consecutive finished normal runs."""
    ends = sorted(ends)
    return max((b - a for a, b in itertools.pairwise(ends)), default=0.0)


async def test_r10_poison_that_kills_the_runner(make_stack: MakeStack) -> None:
    stack = await make_stack()
    (stack.settings.functions_dir / "probe.py").write_text(textwrap.dedent(SOURCE))
    client = Client(stack.redis, stack.settings)
    supervisor = Supervisor(stack)
    for proc in supervisor.live:
        await stack.runner_ready(proc)
    started = time.time()
    normal: list[str] = []
    async with supervisor.running():
        normal += await client.enqueue_many("probe", [{"sleep": SLEEP}] * (NORMAL // 2))
        poison = (await client.enqueue("probe", {"poison": True})).id
        normal += await client.enqueue_many("probe", [{"sleep": SLEEP}] * (NORMAL // 2))

        async def settled() -> bool:
            statuses = await final_statuses(stack.redis, stack.keys, [*normal, poison])
            return all(s in FINAL for s in statuses.values())

        with contextlib.suppress(AssertionError):  # figures first, then the verdict
            await eventually(settled, 40, "every invocation to finish")
        settled_s = time.time() - started
    runs = stack.executions()
    poison_runs = [e for e in runs if e.id == poison]
    finals = await final_statuses(stack.redis, stack.keys, normal)
    figures = check(dict.fromkeys(normal), [e for e in runs if e.id != poison], finals)
    record_ = await client.get(poison)
    dead = await client.dead_letters("probe")
    crash_codes = Counter(code for _, code in supervisor.exits)
    ends = [e.end for e in runs if e.end is not None and e.id != poison]
    per_second = Counter(int(t - started) for t in ends)
    record(
        "R10",
        title=f"1 poison invocation among {NORMAL} whose handler os._exits the runner "
        f"(in-process), {RUNNERS} supervised runners",
        fault=f"the poison payload kills its runner; STREAMFN_MAX_DELIVERIES={MAX_DELIVERIES}",
        expectation=f"poison run <= {MAX_DELIVERIES} times then dead-lettered unrun; "
        f"normal lost 0; crashes <= {MAX_DELIVERIES}",
        lost=figures["lost"],
        duplicates=figures["duplicates"],
        recovery_s=None,
        lost_statuses=dict(Counter(s for s in finals.values() if s != "succeeded")),
        poison_executions=len(poison_runs),
        poison_status=record_.status if record_ else None,
        crashes=len(supervisor.exits),
        exit_codes=dict(crash_codes),
        settled_s=round(settled_s, 2),
        longest_gap_s=round(_longest_gap(ends), 2),
        finished_per_s=[per_second.get(s, 0) for s in range(int(settled_s) + 1)],
    )
    assert len(poison_runs) <= MAX_DELIVERIES, poison_runs
    assert record_ is not None and record_.status == "dead", record_
    assert record_.error and record_.error.get("type") == "PoisonMessage", record_.error
    assert any(d.invocation_id == poison for d in dead), "the poison is in the dead-letter stream"
    assert figures["lost"] == 0, figures
    assert len(supervisor.exits) <= MAX_DELIVERIES, supervisor.exits
    assert set(crash_codes) <= {POISON_EXIT}, "every runner exit was the poison's"
