"""A schedule round's pure decisions: the horizon, the due split, each step."""

from __future__ import annotations

import pytest

from streamfn.schedules.definition import Misfire
from streamfn.schedules.due import (
    HORIZON_MS,
    Cached,
    Scan,
    cached_from_hash,
    fire_call,
    horizon,
    scan_due,
)
from streamfn.schedules.spec import build_spec


def test_horizon_is_unbounded_until_the_clock_is_measured() -> None:
    assert horizon(None, 0.05) == "+inf"
    assert horizon(10_000.4, 0.05) == 10_000 + 50 + HORIZON_MS


def test_scan_splits_at_now_and_finds_the_soonest_later() -> None:
    rows = [[(b"a", 900.0), (b"b", 1000.0), (b"c", 1200.0)], [(b"d", 1100.0)], []]
    scan = scan_due(["f", "g", "h"], rows, 1000, batch=500)
    assert scan == Scan([("f", "a", 900), ("f", "b", 1000)], 1100, False, 1000)


def test_a_batch_full_of_due_ones_goes_again_at_once() -> None:
    scan = scan_due(["f"], [[(b"a", 1.0), (b"b", 2.0)]], 1000, batch=2)
    assert scan.again


def test_a_deleted_schedule_gets_the_empty_step() -> None:
    call = fire_call(("f", "gone", 1000), 1500, None, grace_ms=1000)
    assert (call.rev, tuple(call.fires), call.next_ms) == ("", (), None)


def test_a_due_schedule_fires_and_moves_on() -> None:
    spec = build_spec(cron=None, every="1s")
    cached = Cached("r1", spec, Misfire("skip", 0), fire_count=0)
    call = fire_call(("f", "s", 1000), 1000, cached, grace_ms=1000)
    assert (call.rev, tuple(call.fires), call.next_ms) == ("r1", (1000,), 2000)


def test_an_unreadable_hash_raises() -> None:
    with pytest.raises(KeyError):
        cached_from_hash({b"kind": b"every"})
