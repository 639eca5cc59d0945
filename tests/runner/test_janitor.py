"""Janitor: gone runners' consumers are deleted from every loaded function's group, after the
runner starts and after a runner went away, never on a clock; a consumer holding work, and
the runner's own, stay."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import replace
from pathlib import Path

from redis.asyncio import Redis

from streamfn import departures, registry
from streamfn.client import Client
from streamfn.keys import GROUP, Keys
from streamfn.rdb import RDB
from streamfn.registry import RunnerReport
from streamfn.runner.discovery import Discovery
from streamfn.runner.groups import ensure_groups
from streamfn.runner.janitor import CAP, JITTER, Janitor, reapable_after, sweep_interval
from streamfn.runner.metrics import Metrics
from streamfn.settings import Settings
from tests.lua.test_reap_consumers import consumers, idle_past
from tests.runner.conftest import StartRunner, wait_final, wait_for, write_function
from tests.support.cleanup import cleanup_bound

NOOP = """
async def handle(payload, ctx):
    return 1
"""
LIMIT = 0.15  # seconds; the tests wait on Redis's own idle counter, never a sleep


def reaped(metrics: Metrics, function: str) -> float:
    value = metrics.registry.get_sample_value(
        "streamfn_consumers_reaped_total", {"function": function}
    )
    return value or 0.0


async def test_one_sweep_covers_every_function_past_the_per_call_cap(
    settings: Settings, fdir: Path, redis: Redis, keys: Keys
) -> None:
    for name in ("alpha", "beta"):
        write_function(fdir, name, NOOP)
    use = replace(settings, consumer_idle_limit=LIMIT)
    discovery = Discovery(use)
    await discovery.scan()
    assert set(discovery.functions) == {"alpha", "beta"}
    await ensure_groups(redis, keys, discovery.functions)
    gone_alpha = {f"gone-{i}" for i in range(2 * CAP + 5)}
    async with redis.pipeline(transaction=False) as pipe:
        for name in [*gone_alpha, "me"]:
            pipe.xgroup_createconsumer(keys.stream("alpha"), GROUP, name)
        pipe.xgroup_createconsumer(keys.stream("beta"), GROUP, "gone-beta")
        await pipe.execute()
    await redis.xadd(keys.stream("beta"), {"id": "beta.x"})
    await redis.xreadgroup(GROUP, "holding", {keys.stream("beta"): ">"}, count=1)
    await idle_past(redis, keys.stream("alpha"), {*gone_alpha, "me"}, int(LIMIT * 1000))
    await idle_past(redis, keys.stream("beta"), {"gone-beta", "holding"}, int(LIMIT * 1000))
    metrics = Metrics(discovery.functions.__contains__)
    janitor = Janitor(RDB(redis, use), redis, keys, use, "me", discovery, metrics)

    assert await janitor.sweep() == len(gone_alpha) + 1

    assert set(await consumers(redis, keys.stream("alpha"))) == {"me"}
    beta = await consumers(redis, keys.stream("beta"))
    assert set(beta) == {"holding"} and beta["holding"]["pending"] == 1
    assert (reaped(metrics, "alpha"), reaped(metrics, "beta")) == (len(gone_alpha), 1)
    assert (janitor.sweeps, janitor.reaped) == (1, len(gone_alpha) + 1)
    assert await janitor.sweep() == 0


async def test_it_sweeps_after_it_starts_and_after_a_runner_goes_never_on_a_clock(
    settings: Settings, redis: Redis, keys: Keys
) -> None:
    use = replace(settings, consumer_idle_limit=10.0)
    discovery = Discovery(use)  # nothing loaded: sweeps make no script call
    janitor = Janitor(
        RDB(redis, use),
        redis,
        keys,
        use,
        "me",
        discovery,
        Metrics(lambda _: True),
        rng=random.Random(7),
    )
    interval, wait = sweep_interval(use), reapable_after(use)
    assert (interval, wait) == (5.0, 10.0)

    first = await janitor.tick()
    assert 0 <= first <= interval * (1 + JITTER) and janitor.sweeps == 0
    (at,) = janitor.sweep_at  # once the consumers of runners gone before it started can go
    assert wait <= at - time.monotonic() <= wait + interval
    janitor.sweep_at = [0.0]  # as if its time had come
    await janitor.tick()
    await janitor.tick()
    assert janitor.sweeps == 1 and janitor.sweep_at == []
    later = [await janitor.tick() for _ in range(20)]
    assert janitor.sweeps == 1  # nobody went away: no sweep
    assert all(interval * (1 - JITTER) <= d <= interval * (1 + JITTER) for d in later)
    assert len(set(later)) > 1

    report = RunnerReport("other", {}, {})
    await registry.publish(redis, keys, report, 30, now_ms=int(time.time() * 1000))
    await janitor.tick()
    assert janitor.sweep_at == []
    await registry.withdraw(redis, keys, "other")
    await janitor.tick()
    (at,) = janitor.sweep_at  # "other" went away: one sweep, once its consumers can go
    assert wait - 1 <= at - time.monotonic() <= wait + interval
    await janitor.tick()
    assert len(janitor.sweep_at) == 1  # a departure is given one sweep, however many looks
    # The bound allows for the report's lifetime, the next look, the wait and the jitter.
    assert cleanup_bound(use) >= 5.0 + interval * (1 + JITTER) + wait + interval


async def test_a_departure_another_runner_saw_is_swept_for_by_a_runner_started_after_it(
    settings: Settings, redis: Redis, keys: Keys
) -> None:
    """A crash loop: the runners that saw a runner go are gone before its consumers can be
    deleted; a runner started since sweeps for it at the departure's time, not its own."""
    use = replace(settings, consumer_idle_limit=10.0)
    interval, wait = sweep_interval(use), reapable_after(use)
    report = RunnerReport("gone", {}, {})
    await registry.publish(redis, keys, report, 30, now_ms=int(time.time() * 1000))
    await registry.withdraw(redis, keys, "gone")  # noticed (and recorded) by someone else
    assert set(await departures.read(redis, keys)) == {"gone"}
    await asyncio.sleep(0.5)  # the departure is half a second old when the janitor starts
    janitor = Janitor(
        RDB(redis, use), redis, keys, use, "me", Discovery(use), Metrics(lambda _: True)
    )
    await janitor.tick()
    start_up, for_gone = sorted(at - time.monotonic() for at in janitor.sweep_at)
    assert wait - 0.5 - 0.3 <= start_up and for_gone <= wait + interval
    assert for_gone - start_up < interval  # ~0.5 s sooner than its own start-up sweep
    assert min(janitor.sweep_at) - time.monotonic() <= wait - 0.5 + interval


async def test_departures_are_recorded_once_and_trimmed(redis: Redis, keys: Keys) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        departures.record(pipe, keys, ["old"], 1_000)
        departures.record(pipe, keys, ["a", "b"], 1_000 + departures.KEEP_MS + 1)
        departures.record(pipe, keys, ["a"], 1_000 + departures.KEEP_MS + 2)  # NX: first kept
        await pipe.execute()
    assert await departures.read(redis, keys) == {
        "a": 1_000 + departures.KEEP_MS + 1,
        "b": 1_000 + departures.KEEP_MS + 1,
    }


async def test_a_started_runner_reaps_consumers_gone_before_it_came_up(
    settings: Settings,
    fdir: Path,
    redis: Redis,
    keys: Keys,
    client: Client,
    start_runner: StartRunner,
) -> None:
    write_function(fdir, "work", NOOP)
    stream = keys.stream("work")
    await ensure_groups(redis, keys, ["work"])
    await redis.xgroup_createconsumer(stream, GROUP, "gone")  # a runner gone before we start
    # Short leases: the start-up sweep comes one visibility timeout and claim interval in.
    use = replace(settings, consumer_idle_limit=LIMIT, visibility_timeout=1.0, claim_interval=0.2)
    runner = await start_runner(use)
    [done] = await wait_final(client, [(await client.enqueue("work", {})).id])
    assert done.status == "succeeded"

    async def gone() -> bool:
        return "gone" not in await consumers(redis, stream)

    await wait_for(gone, 10, "the gone consumer to be deleted")
    assert runner.consumer in await consumers(redis, stream)


async def test_a_sweep_keeps_a_consumer_holding_work_and_the_runners_own(
    settings: Settings,
    fdir: Path,
    redis: Redis,
    keys: Keys,
    client: Client,
    start_runner: StartRunner,
) -> None:
    write_function(fdir, "work", NOOP)
    stream = keys.stream("work")
    await ensure_groups(redis, keys, ["work"])
    await client.enqueue("work", {})
    await redis.xreadgroup(GROUP, "holding", {stream: ">"}, count=1)
    # A long visibility timeout: the held entry is never reclaimed during the test.
    use = replace(settings, consumer_idle_limit=LIMIT, visibility_timeout=30.0)
    runner = await start_runner(use)
    [done] = await wait_final(client, [(await client.enqueue("work", {})).id])
    assert done.status == "succeeded"
    await idle_past(redis, stream, {runner.consumer, "holding"}, int(LIMIT * 1000))
    assert await runner.parts.janitor.sweep() == 0
    seen = await consumers(redis, stream)
    assert set(seen) == {runner.consumer, "holding"}
    assert seen["holding"]["pending"] == 1
