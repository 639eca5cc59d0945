"""streamfn.partitions: codes round-trip, ids name their queue, keys spread, hashing is stable."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from streamfn import partitions
from streamfn.names import new_invocation_id, queue_of


def test_every_queue_has_a_code_that_decodes_to_it() -> None:
    seen = set()
    for p in range(1, partitions.MAX_PARTITIONS + 1):
        for j in range(p):
            byte = partitions.code(p, j)
            assert 0 <= byte <= 255
            assert partitions.decode(byte) == ((p, j) if j else (1, 0))
            seen.add(byte)
            name = partitions.queue_name("fn", p, j)
            assert partitions.split(name) == ((("fn", p, j)) if j else ("fn", 1, 0))
            assert partitions.function_of_queue(name) == "fn"
    assert len(seen) == 1 + sum(range(1, partitions.MAX_PARTITIONS))  # all distinct


@pytest.mark.parametrize(("p", "j"), [(0, 1), (17, 1), (3, 3), (3, -1)])
def test_a_queue_outside_its_layout_has_no_code(p: int, j: int) -> None:
    with pytest.raises(ValueError, match="no queue"):
        partitions.code(p, j)


def test_codes_naming_no_queue_mean_home() -> None:
    # j = 0 with P > 1, and j >= P: what a random byte of an older id may hold.
    assert partitions.decode(0x20) == (1, 0)
    assert partitions.decode(0x15) == (1, 0)  # P = 2, j = 5


def test_ids_are_time_ordered_and_name_their_queue() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_invocation_id("fn", partitions.code(3, j)) for j in (0, 1, 2)]
    after = time.time_ns() // 1_000_000
    for j, inv in enumerate(ids):
        token = inv.split(".", 1)[1]
        assert len(token) == 24
        assert before <= int(token[:12], 16) <= after
        assert queue_of(inv) == partitions.queue_name("fn", 3, j)
    later = new_invocation_id("fn")
    time.sleep(0.002)
    assert new_invocation_id("fn") > later  # a later millisecond sorts after
    assert queue_of("fn.0123456789ab22ef01234567") == "fn@3.2"
    assert queue_of("fn.0123456789abcdef01234567") == "fn"  # 0xcd: P = 13, j = 13, no queue
    assert queue_of("not an id") is None


def test_an_idempotency_key_always_picks_the_same_queue() -> None:
    picks = {partitions.queue_for_key("fn", 4, f"key-{i}") for i in range(400)}
    assert {q for q, _ in picks} == set(partitions.queues("fn", 4))
    for i in range(50):
        assert partitions.queue_for_key("fn", 4, f"k{i}") == partitions.queue_for_key(
            "fn", 4, f"k{i}"
        )
    assert partitions.queue_for_key("fn", 1, "k") == ("fn", 0)


def test_growing_the_layout_moves_only_the_keys_that_must_move() -> None:
    keys = [f"key-{i}" for i in range(3000)]
    three = [partitions.queue_for_key("fn", 3, k)[0] for k in keys]
    four = [partitions.queue_for_key("fn", 4, k)[0] for k in keys]
    pairs = [
        (partitions.split(a)[2], partitions.split(b)[2]) for a, b in zip(three, four, strict=True)
    ]
    moved = [b for a, b in pairs if a != b]
    assert 0.2 < len(moved) / len(keys) < 0.3  # jump hashing moves ~1/4 going from 3 to 4
    assert set(moved) == {3}  # and only to the new queue


def test_jump_hash_spreads_evenly() -> None:
    counts = Counter(partitions.jump_hash(i * 2654435761, 5) for i in range(10_000))
    assert set(counts) == set(range(5))
    assert max(counts.values()) < 1.1 * min(counts.values())


def test_round_robin_takes_each_queue_in_turn_per_function() -> None:
    rr = partitions.RoundRobin()
    picks = []
    for _ in range(6):  # interleaved functions must not starve each other's queues
        picks.append(rr.pick("a", 2)[0])
        rr.pick("b", 2)
    assert picks == ["a", "a@2.1"] * 3
    assert rr.pick("c", 1) == ("c", 0)
