"""streamfn.keys: the several-keys-at-once helpers name exactly the keys of the one-key ones."""

from __future__ import annotations

from dataclasses import replace

import pytest
from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

from streamfn.keys import Keys
from streamfn.settings import DEFAULTS


def test_queue_keys_and_invocations_match_the_single_key_names() -> None:
    k = Keys("ns")
    assert k.queue_keys("fn", "fn.a") == [
        k.stream("fn"),
        k.timers("fn"),
        k.invocation("fn", "fn.a"),
    ]
    assert k.invocations("fn", ["fn.a", "fn.b"]) == [
        k.invocation("fn", "fn.a"),
        k.invocation("fn", "fn.b"),
    ]
    assert k.invocations("fn", []) == []


def slot(key: str) -> int:
    return key_slot(key.encode())


def test_every_key_of_a_function_is_in_one_slot_with_its_channels() -> None:
    k = Keys("ns")
    names = [
        k.stream("fn"),
        k.timers("fn"),
        k.dead("fn"),
        k.invocation("fn", "fn.a"),
        k.idempotency("fn", "key"),
        k.cancels("fn"),
        k.schedules("fn"),
        k.schedule("fn", "s1"),
        k.done_channel("fn"),
        k.cancel_channel("fn"),
    ]
    assert len({slot(n) for n in names}) == 1


@pytest.mark.parametrize("shards", [1, 2, 16, 256])
def test_shards_cover_the_slot_range_evenly(shards: int) -> None:
    k = Keys("ns", shards)
    width = REDIS_CLUSTER_HASH_SLOTS // shards
    assert [slot(t) // width for t in k.tags] == list(range(shards))
    assert len(k.done_channels) == len(set(k.done_channels)) == shards


def test_functions_spread_over_shards_and_group_by_shard() -> None:
    k = Keys("ns")
    names = [f"fn{i}" for i in range(200)]
    groups = k.by_shard(names)
    assert sorted(fn for group in groups.values() for fn in group) == sorted(names)
    assert len(groups) == 16  # 200 names reach every one of 16 shards
    for shard, group in groups.items():
        assert {slot(k.stream(fn)) for fn in group} == {slot(k.tags[shard])}


def test_the_registry_is_one_slot_and_shard_counts_are_checked() -> None:
    k = Keys("ns")
    assert slot(k.runners) == slot(k.runner("r1")) == slot(k.runner("r2"))
    for bad in (0, 3, 512):
        with pytest.raises(ValueError, match="power of two"):
            Keys("ns", bad)


def test_of_reads_the_shard_count_from_settings() -> None:
    k = Keys.of(replace(DEFAULTS, namespace="x", shards=4))
    assert (k.namespace, k.shards, len(k.tags)) == ("x", 4, 4)
