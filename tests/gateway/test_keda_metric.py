"""KEDA's metric: after any mix of enqueues, cancels, replays and partitions, reading it the way
the shipped trigger reads it shows exactly the waiting work, and 0 when nothing waits.

The trigger is read from deploy/kubernetes/base/scaledobject.yaml itself: its URL's path is
requested from a real gateway (KEDA's ``metrics-api`` scaler sends a plain GET and refuses
anything but 200), its ``valueLocation`` picks the number out of the JSON body (a GJSON path;
ours is one plain key), and the scaler is active, which is what scales from zero, when that
number is above ``activationTargetValue``.  Beside it the consumer group's ``lag`` (what the
Redis Streams scaler's lag mode reads from ``XINFO GROUPS``): nil once a cancel deleted an
entry past the group's position, and 0 for work delivered to a runner that died, which is
why the trigger does not use it.
"""

from __future__ import annotations

import time
from typing import Any

from redis.asyncio import Redis

from streamfn.keys import Keys
from streamfn.registry import RunnerReport, publish
from tests.deploy.manifests import Trigger
from tests.gateway.conftest import POLICY, Client, refresh
from tests.gateway.fake_runner import FakeRunner
from tests.gateway.test_dead_letters import boom
from tests.gateway.test_invocations import invoke

TRIGGER = Trigger.shipped()


async def keda_reads(client: Client) -> tuple[float, bool]:
    """(metric value, active) as KEDA's metrics-api scaler computes them."""
    response = await client.get(TRIGGER.path)
    return TRIGGER.read(response.status, await response.json())


async def lag(redis: Redis, keys: Keys, queue: str) -> Any:
    (group,) = await redis.xinfo_groups(keys.stream(queue))
    return group["lag"]


async def cancel(client: Client, invocation_id: str) -> None:
    response = await client.delete(f"/invocations/{invocation_id}")
    assert response.status == 200, await response.text()


async def test_nothing_waiting_reads_zero_and_inactive(client: Client) -> None:
    assert await keda_reads(client) == (0, False)


async def test_one_invocation_after_a_cancel_wakes_runners(
    client: Client, redis: Redis, keys: Keys, runner: FakeRunner
) -> None:
    await runner.ensure_group("echo")
    await invoke(client, body="the one")
    await cancel(client, await invoke(client, body="cancelled"))
    # A deleted entry after the group's position: Redis can no longer count the lag.
    assert await lag(redis, keys, "echo") is None
    assert await keda_reads(client) == (1, True)

    await cancel(client, await invoke(client, body="another"))
    assert await lag(redis, keys, "echo") is None
    assert await keda_reads(client) == (1, True)


async def test_cancelling_everything_reads_zero(client: Client, runner: FakeRunner) -> None:
    await runner.ensure_group("echo")
    for inv in [await invoke(client, body=n) for n in range(4)]:
        await cancel(client, inv)
    assert await keda_reads(client) == (0, False)


async def test_work_a_dead_runner_held_wakes_runners(
    client: Client, redis: Redis, keys: Keys, runner: FakeRunner
) -> None:
    """Delivered to a runner that then died (kill -9, node lost): nobody has it running, a
    new runner must start to reclaim it, and the lag says 0."""
    await invoke(client, body="orphan")
    assert len(await runner.claim("echo")) == 1  # the fake runner never finishes it
    assert await lag(redis, keys, "echo") == 0
    assert await keda_reads(client) == (1, True)


async def test_running_dead_and_replayed_work_counts_while_it_waits(
    client: Client, runner: FakeRunner
) -> None:
    inv = await invoke(client, body="x")
    entries = await runner.claim("echo")  # delivered: running, still in the stream
    assert await keda_reads(client) == (1, True)
    assert set(await runner.finish("echo", entries, boom, mode="dead")) == {"dead"}
    assert await keda_reads(client) == (0, False)  # dead letters wait for no runner

    assert (await client.post(f"/dead-letters/{inv}/replay")).status == 202
    await invoke(client, body="y")
    gone = await invoke(client, body="z")
    await cancel(client, gone)
    assert await keda_reads(client) == (2, True)  # the replay and "y"

    while await runner.run_once("echo"):
        pass
    assert await keda_reads(client) == (0, False)


async def test_every_queue_of_a_partitioned_function_counts(
    client: Client, redis: Redis, keys: Keys, runner: FakeRunner
) -> None:
    wide = RunnerReport("r2", {"wide": {**POLICY, "partitions": 3}}, {}, "test", 2, 10)
    await publish(redis, keys, wide, ttl_s=60, now_ms=int(time.time() * 1000))
    await refresh(client.app)
    ids = [await invoke(client, "/invoke/wide", n) for n in range(6)]  # two per queue
    await cancel(client, ids[0])
    await invoke(client)  # and one of echo
    body = await (await client.get(TRIGGER.path)).json()
    assert (body["functions"], body["queues"]) == (3, 5)  # echo, slow: 1 queue; wide: 3
    assert await keda_reads(client) == (6, True)
