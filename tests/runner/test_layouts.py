"""Layout follower: old PARTITIONS layouts are read while in use or holding work, then dropped."""

from __future__ import annotations

import time
from pathlib import Path

from redis.asyncio import Redis

from streamfn import layouts, partitions
from streamfn.keys import GROUP, Keys
from streamfn.runner.discovery import Discovery
from streamfn.runner.layouts import LayoutFollower
from streamfn.settings import Settings
from tests.runner.conftest import write_function

SOURCE = "PARTITIONS = {p}\nasync def handle(payload, ctx):\n    return payload\n"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def test_old_layouts_are_read_until_unused_and_drained(
    fdir: Path, settings: Settings, redis: Redis, keys: Keys
) -> None:
    write_function(fdir, "hot", SOURCE.format(p=2))
    discovery = Discovery(settings)
    await discovery.scan()
    follower = LayoutFollower(redis, keys, discovery, grace_s=60, check_every_s=0)
    long_ago = now_ms() - 3_600_000
    # P=4 was announced just now (another runner still has it), P=3 an hour ago.
    await layouts.announce(redis, keys, {"hot": 4}, now_ms())
    await layouts.announce(redis, keys, {"hot": 3}, long_ago)
    stale = partitions.queue_name("hot", 3, 2)
    await redis.xgroup_create(keys.stream(stale), GROUP, id="0", mkstream=True)
    entry = await redis.xadd(keys.stream(stale), {"id": "hot.x"})

    await follower.step(now_ms())
    assert discovery.old_layouts == {"hot": frozenset({3, 4})}
    assert set(discovery.queues) == {
        *partitions.queues("hot", 2),
        *partitions.queues("hot", 3),
        *partitions.queues("hot", 4),
    }
    assert (await layouts.read_layouts(redis, keys))["hot"].keys() == {2, 3, 4}

    await redis.xdel(keys.stream(stale), entry)  # the stale layout's last work is done
    await follower.step(now_ms())
    assert discovery.old_layouts == {"hot": frozenset({4})}
    assert stale not in discovery.queues
    # Still listed (dead letters are looked for in every layout a function had).
    assert 3 in (await layouts.read_layouts(redis, keys))["hot"]


async def test_a_reload_keeps_the_layout_it_left(fdir: Path, settings: Settings) -> None:
    write_function(fdir, "hot", SOURCE.format(p=3))
    discovery = Discovery(settings)
    await discovery.scan()
    assert set(discovery.queues) == set(partitions.queues("hot", 3))
    assert discovery.queues["hot@3.1"].queue == "hot@3.1"
    assert discovery.queues["hot@3.1"].name == "hot"
    write_function(fdir, "hot", SOURCE.format(p=1) + "\n# edited\n")
    await discovery.scan()
    assert discovery.functions["hot"].policy.partitions == 1
    assert set(discovery.queues) == set(partitions.queues("hot", 3))  # until the follower says


def test_keys_layouts_is_in_the_registry_slot() -> None:
    k = Keys("ns")
    assert k.layouts.startswith("{ns:registry}")
