"""Leases: the oldest lease is the first delivered still held, across functions."""

from __future__ import annotations

from streamfn.runner.jobs import Job, Leases


def test_the_oldest_lease_is_the_first_still_held() -> None:
    leases = Leases()
    assert leases.oldest() is None
    a, b, c = Job("aa", "1-0", True), Job("bb", "2-0", True), Job("aa", "3-0", True)
    a.leased_at, b.leased_at, c.leased_at = 10.0, 20.0, 30.0
    for job in (a, b, c):
        leases.add(job)
    assert leases.oldest() is a
    leases.remove(a)
    assert leases.oldest() is b
    leases.remove(b)
    assert leases.oldest() is c
    leases.remove(c)
    assert leases.oldest() is None and len(leases) == 0
