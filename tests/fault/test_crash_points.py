"""R9: a runner exits (``os._exit``) at a named point inside its loops, beside a healthy one.

The victim is started by the fault tests' launcher with ``--crash-at <point>:<k>``
(:mod:`tests.fault.faulty_runner`, the crash points of :mod:`runner.faults`), which ends it
the k-th time it reaches the point:

* ``after_claim``: the reclaimer claimed a dead runner's entries, none started yet;
* ``after_read``: XREADGROUP delivered entries, none started yet;
* ``after_execute``: a handler returned, its outcome not yet sent to Redis;
* ``after_complete``: a batch of outcomes stored and acknowledged, metrics not yet updated.

The healthy runner is already running at the last three points; at ``after_claim`` it joins
once the victim is gone (see there).  Hard, at every point: lost = 0; no invocation
``succeeded`` without a stored result; the victim exited at the point (its exit code).
Duplicates only where execution had started: none at the two points before execution,
elsewhere only of invocations the victim itself started, and at ``after_execute`` at least
the one whose outcome died with it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest

from streamfn.client import Client
from streamfn.keys import GROUP
from streamfn.launch import Child
from streamfn.runner.faults import POINTS as CRASH_POINTS
from streamfn.settings import Settings, SettingsError
from tests.fault import faulty_runner
from tests.fault.checker import all_succeeded, check, final_statuses
from tests.fault.conftest import MakeStack
from tests.fault.figures import record
from tests.fault.harness import Stack, eventually

pytestmark = pytest.mark.fault

JOBS = 200
SLEEP = 0.3
SLOTS = "50"  # per runner: fewer than JOBS, so the victim always gets some of the work
# point -> k: crash the k-th time.  Before execution k = 1, so the victim has run nothing
# else yet; after it, k > 1 so other work is in flight when it dies.
POINTS = {"after_claim": 1, "after_read": 1, "after_execute": 20, "after_complete": 2}
BEFORE_EXECUTION = {"after_claim", "after_read"}


@dataclass
class PointRun:
    """What one crash point did to its batch."""

    lost: int
    duplicates: int
    victim_started: int
    dup_outside_victim: int
    without_result: int
    exit_code: int | None


async def _without_result(stack: Stack, ids: list[str]) -> int:
    """Invocations stored as ``succeeded`` that have no ``result`` field."""
    bad = 0
    async with stack.redis.pipeline(transaction=False) as pipe:
        for inv in ids:
            pipe.hmget(stack.keys.invocation("probe", inv), ["status", "result"])
        for status, result in await pipe.execute():
            bad += status == b"succeeded" and result is None
    return bad


async def _exited(victim: Child) -> int | None:
    async def dead() -> bool:
        return not victim.alive()

    try:
        await eventually(dead, 20, "the victim to exit")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; its log: {victim.output()[-1500:]}") from None
    return victim.popen.returncode


async def _measure(stack: Stack, ids: list[str], victim: Child, code: int | None) -> PointRun:
    await eventually(
        lambda: all_succeeded(stack.redis, stack.keys, ids), 30, "every invocation to succeed"
    )
    wanted = set(ids)
    runs = [e for e in stack.executions() if e.id in wanted]
    figures = check(dict.fromkeys(ids), runs, await final_statuses(stack.redis, stack.keys, ids))
    by_victim = {e.id for e in runs if e.pid == victim.pid}
    dup_ids = {inv for inv, n in Counter(e.id for e in runs).items() if n > 1}
    return PointRun(
        lost=figures["lost"],
        duplicates=figures["duplicates"],
        victim_started=len(by_victim),
        dup_outside_victim=len(dup_ids - by_victim),
        without_result=await _without_result(stack, ids),
        exit_code=code,
    )


async def _crash_after_claim(stack: Stack, client: Client) -> PointRun:
    """A ghost consumer (a runner that died) holds the batch; the victim reclaims it.

    The healthy runner starts only once the victim is gone: running already, it could win
    the race for the ghost's entries and the victim would never reach the point.
    """
    ids = await client.enqueue_many("probe", [{"sleep": SLEEP}] * JOBS)
    await stack.redis.xreadgroup(GROUP, "ghost", {stack.keys.stream("probe"): ">"}, count=JOBS)
    victim = stack.start_runner(crash_at="after_claim:1", STREAMFN_CONCURRENCY=SLOTS)
    code = await _exited(victim)
    stack.start_runner(STREAMFN_CONCURRENCY=SLOTS)  # the healthy one stays for what follows
    return await _measure(stack, ids, victim, code)


async def _crash_at(stack: Stack, client: Client, point: str, k: int) -> PointRun:
    victim = stack.start_runner(crash_at=f"{point}:{k}", STREAMFN_CONCURRENCY=SLOTS)
    await stack.runner_ready(victim)
    ids = await client.enqueue_many("probe", [{"sleep": SLEEP}] * JOBS)
    code = await _exited(victim)
    return await _measure(stack, ids, victim, code)


async def test_r9_crash_points(make_stack: MakeStack) -> None:
    stack = await make_stack()
    stack.probe()
    client = Client(stack.redis, stack.settings)
    results = {"after_claim": await _crash_after_claim(stack, client)}
    for point, k in POINTS.items():
        if point != "after_claim":
            results[point] = await _crash_at(stack, client, point, k)
    table = {f"{p}:{POINTS[p]}": f"lost {r.lost} dup {r.duplicates}" for p, r in results.items()}
    record(
        "R9",
        title=f"runner os._exits at a named point; {JOBS} invocations per point, a healthy "
        "runner beside it",
        fault="a runner started with --crash-at <point>:<k> (test launcher), points "
        + ", ".join(POINTS),
        expectation="lost 0 at every point; duplicates only after execution started; "
        "nothing succeeded without a stored result",
        lost=sum(r.lost for r in results.values()),
        duplicates=sum(r.duplicates for r in results.values()),
        recovery_s=None,
        points=table,
        victim_started={p: r.victim_started for p, r in results.items()},
    )
    for point, r in results.items():
        assert r.exit_code == faulty_runner.CRASH_EXIT, (point, r)
        assert r.lost == 0, (point, r)
        assert r.without_result == 0, (point, r)
        assert r.dup_outside_victim == 0, (point, r)
        if point in BEFORE_EXECUTION:
            assert r.victim_started == 0 and r.duplicates == 0, (point, r)
    assert results["after_execute"].duplicates >= 1, results["after_execute"]


def test_the_launcher_parses_faults_strictly_and_the_product_has_no_switch() -> None:
    parse = faulty_runner.parse_crash_at
    assert parse("after_read:3") == ("after_read", 3)
    assert parse("after_claim") == ("after_claim", 1)
    assert parse("") is None
    for bad in ("after_lunch", "after_read:0", "after_read:x"):
        with pytest.raises(ValueError, match="--crash-at"):
            parse(bad)
    armed, rest = faulty_runner.faults_of(
        ["--crash-at", "after_read:3", "--no-heartbeat", "--burst"]
    )
    assert (armed.armed, armed.crash_at, armed.renew_leases, rest) == (
        True,
        ("after_read", 3),
        False,
        ["--burst"],
    )
    assert set(POINTS) <= set(CRASH_POINTS)
    # The old environment switches are gone: a STREAMFN_* name the product does not read.
    for name in ("STREAMFN_TEST_CRASH_AT", "STREAMFN_TEST_NO_HEARTBEAT"):
        with pytest.raises(SettingsError):
            Settings.from_env({name: "1"})
