"""streamfn.keys: the several-keys-at-once helpers name exactly the keys of the one-key ones."""

from __future__ import annotations

from dataclasses import replace

import pytest
from redis.crc import REDIS_CLUSTER_HASH_SLOTS, key_slot

from streamfn import partitions
from streamfn.keys import Keys
from streamfn.settings import DEFAULTS


def test_queue_keys_and_invocations_match_the_single_key_names() -> None:
    k = Keys("ns")
    assert k.queue_keys("fn", "fn.a") == [
        k.stream("fn"),
        k.timers("fn"),
        k.invocation("fn", "fn.a"),
        k.due_timers(k.tag("fn")),
        k.active(k.tag("fn")),
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
        k.due_timers(k.tag("fn")),
        k.due_schedules(k.tag("fn")),
        k.active(k.tag("fn")),
        k.wake_channel(k.tag("fn")),
    ]
    assert len({slot(n) for n in names}) == 1


@pytest.mark.parametrize("shards", [1, 2, 16, 256])
def test_shards_cover_the_slot_range_evenly(shards: int) -> None:
    k = Keys("ns", shards)
    width = REDIS_CLUSTER_HASH_SLOTS // shards
    assert [slot(t) // width for t in k.tags] == list(range(shards))
    assert len(k.done_channels()) == len(set(k.done_channels())) == shards


def test_functions_spread_over_shards_and_group_by_tag() -> None:
    k = Keys("ns")
    names = [f"fn{i}" for i in range(200)]
    groups = k.by_tag(names)
    assert sorted(fn for group in groups.values() for fn in group) == sorted(names)
    assert set(groups) == set(k.tags)  # 200 names reach every one of 16 shards
    for tag, group in groups.items():
        assert {slot(k.stream(fn)) for fn in group} == {slot(tag)}


@pytest.mark.parametrize("p", [2, 3, 4, 16])
def test_partition_queues_sit_evenly_round_the_slot_ring(p: int) -> None:
    k = Keys("ns")
    queues = partitions.queues("hot", p)
    home = slot(k.stream("hot"))
    assert slot(k.tag("hot")) == home
    for j, q in enumerate(queues):
        names = [k.stream(q), k.timers(q), k.dead(q), k.invocation(q, "hot.x"), k.cancels(q)]
        names += [k.idempotency(q, "key"), k.done_channel(q), k.cancel_channel(q)]
        names += [k.due_timers(k.tag(q)), k.active(k.tag(q)), k.wake_channel(k.tag(q))]
        assert {slot(n) for n in names} == {(home + round(j * 16384 / p)) % 16384}
    # The queues' channels join the shards' on request, each once.
    channels = k.done_channels(queues)
    assert len(channels) == len(set(channels)) == 16 + p - 1


def test_three_partitions_land_on_three_equal_masters() -> None:
    """redis-cli --cluster create gives 3 masters 0-5460, 5461-10922, 10923-16383."""
    k = Keys("ns")

    def master(s: int) -> int:
        return 0 if s <= 5460 else 1 if s <= 10922 else 2

    spread = [
        {master(slot(k.stream(q))) for q in partitions.queues(f"fn{i}", 3)} for i in range(100)
    ]
    assert sum(len(m) == 3 for m in spread) >= 99  # only a home slot on a boundary can fail


def test_the_registry_is_one_slot_and_shard_counts_are_checked() -> None:
    k = Keys("ns")
    assert slot(k.runners) == slot(k.runner("r1")) == slot(k.runner("r2"))
    assert slot(k.runners) == slot(k.layouts) == slot(k.deployed) == slot(k.removed)
    for bad in (0, 3, 512):
        with pytest.raises(ValueError, match="power of two"):
            Keys("ns", bad)


def test_of_reads_the_shard_count_from_settings() -> None:
    k = Keys.of(replace(DEFAULTS, namespace="x", shards=4))
    assert (k.namespace, k.shards, len(k.tags)) == ("x", 4, 4)
