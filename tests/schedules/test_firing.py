"""Misfire plans: what a due schedule fires at a given Redis time (pure, no Redis)."""

from __future__ import annotations

import pytest

from streamfn.schedules.definition import Misfire
from streamfn.schedules.firing import MAX_FIRES_PER_CALL, Plan, plan, recent_fires
from streamfn.schedules.spec import Spec, build_spec, next_fire
from tests.schedules.helpers import ms

T0 = ms("2024-01-01 00:00:00")
SKIP, ONCE = Misfire("skip"), Misfire("fire_once")


def catch_up(most: int) -> Misfire:
    return Misfire("catch_up", most)


def every_second(**bounds: int) -> Spec:
    return build_spec(cron="* * * * * *", every=None, **bounds)


def test_not_due_yet_changes_nothing() -> None:
    assert plan(every_second(), ONCE, due_ms=T0 + 5000, now_ms=T0) == Plan((), T0 + 5000)


@pytest.mark.parametrize("policy", [SKIP, ONCE, catch_up(5)])
def test_on_time_and_slightly_late_fires_are_just_fires(policy: Misfire) -> None:
    spec = every_second()
    assert plan(spec, policy, due_ms=T0, now_ms=T0 + 3) == Plan((T0,), T0 + 1000)
    # 900 ms late is within the 1 s grace: still a fire, not a misfire.
    assert plan(spec, policy, due_ms=T0, now_ms=T0 + 900) == Plan((T0,), T0 + 1000)


def test_after_a_30_s_outage_each_policy_fires_what_it_promises() -> None:
    spec = every_second()
    now = T0 + 30_000 + 200  # down from T0 to T0+30 s; the T0+30 s fire is on time
    skip = plan(spec, SKIP, due_ms=T0, now_ms=now)
    once = plan(spec, ONCE, due_ms=T0, now_ms=now)
    five = plan(spec, catch_up(5), due_ms=T0, now_ms=now)
    on_time = (T0 + 30_000,)
    assert skip == Plan(on_time, T0 + 31_000)
    assert once == Plan((T0 + 29_000, *on_time), T0 + 31_000)  # the most recent missed time
    missed = tuple(T0 + s * 1000 for s in range(25, 30))
    assert five == Plan((*missed, *on_time), T0 + 31_000)


def test_catch_up_fires_all_when_fewer_were_missed_than_its_max() -> None:
    spec = every_second()
    got = plan(spec, catch_up(100), due_ms=T0, now_ms=T0 + 3500)
    assert got == Plan((T0, T0 + 1000, T0 + 2000, T0 + 3000), T0 + 4000)


def test_one_call_fires_at_most_the_cap_and_leaves_the_rest_due() -> None:
    spec = every_second()
    got = plan(spec, catch_up(1000), due_ms=T0, now_ms=T0 + 500_000)
    assert got.fires == tuple(T0 + i * 1000 for i in range(MAX_FIRES_PER_CALL))
    assert got.next_ms == T0 + MAX_FIRES_PER_CALL * 1000  # the next chosen time, still due
    again = plan(spec, catch_up(1000), due_ms=got.next_ms, now_ms=T0 + 500_000)
    assert again.fires[0] == got.next_ms


def test_a_long_outage_plans_quickly_for_sparse_and_dense_crons() -> None:
    dense = every_second()
    year = 365 * 86_400_000
    got = plan(dense, catch_up(3), due_ms=T0, now_ms=T0 + year)
    missed = (T0 + year - 4000, T0 + year - 3000, T0 + year - 2000)
    assert got.fires == (*missed, T0 + year - 1000, T0 + year)  # the last two are on time
    daily = build_spec(cron="0 9 * * *", every=None)
    got = plan(daily, ONCE, due_ms=ms("2024-01-01 09:00:00"), now_ms=ms("2024-03-01 12:00:00"))
    assert got == Plan((ms("2024-03-01 09:00:00"),), ms("2024-03-02 09:00:00"))


def test_limit_finishes_the_schedule() -> None:
    spec = every_second(limit=3)
    assert plan(spec, ONCE, due_ms=T0, now_ms=T0, fired=1) == Plan((T0,), T0 + 1000)
    assert plan(spec, ONCE, due_ms=T0, now_ms=T0, fired=2) == Plan((T0,), None)
    got = plan(spec, catch_up(10), due_ms=T0, now_ms=T0 + 9000, fired=1)
    assert got == Plan((T0, T0 + 1000), None)  # 2 left of the limit: the earliest 2


def test_end_at_finishes_the_schedule() -> None:
    spec = every_second(end_at=T0 + 2000)
    assert plan(spec, ONCE, due_ms=T0 + 2000, now_ms=T0 + 2001) == Plan((T0 + 2000,), None)
    assert plan(spec, SKIP, due_ms=T0, now_ms=T0 + 60_000) == Plan((), None)


def test_every_schedules_use_arithmetic_for_missed_times() -> None:
    spec = build_spec(cron=None, every="10s", start_at=T0 + 3000)
    now = T0 + 3000 + 3_600_000 + 500
    got = plan(spec, catch_up(2), due_ms=T0 + 3000, now_ms=now)
    assert got.fires == (now - 500 - 20_000, now - 500 - 10_000, now - 500)
    assert got.next_ms == now - 500 + 10_000


@pytest.mark.parametrize("spec", [every_second(), build_spec(cron=None, every="7s", start_at=T0)])
def test_recent_fires_matches_a_forward_walk(spec: Spec) -> None:
    lo, hi = T0, T0 + 100_000
    walk, at = [], next_fire(spec, lo - 1)
    while at is not None and at < hi:
        walk.append(at)
        at = next_fire(spec, at)
    for count in (1, 2, 5, 50, 10_000):
        assert recent_fires(spec, lo, hi, count) == walk[-count:]
