"""The Python client with a partitioned function: batches, keys and records per queue."""

from __future__ import annotations

from redis.asyncio import Redis

from streamfn import partitions
from streamfn.client import Client
from streamfn.keys import Keys
from streamfn.names import queue_of
from streamfn.settings import Settings


async def test_enqueue_many_spreads_in_turn_and_each_record_is_in_its_queue(
    redis: Redis, settings: Settings, keys: Keys
) -> None:
    client = Client(redis, settings)
    client.set_partitions({"hot": {"partitions": 3}, "plain": {"partitions": 1}})
    assert client.partitions == {"hot": 3}
    ids = await client.enqueue_many("hot", [{"n": i} for i in range(30)])
    queues = [queue_of(i) for i in ids]
    assert queues == partitions.queues("hot", 3) * 10
    for q in partitions.queues("hot", 3):
        assert await redis.xlen(keys.stream(q)) == 10
    for inv in ids:
        record = await client.get(inv)
        assert record is not None and record.function == "hot" and record.status == "queued"
    # One-at-a-time enqueues take turns too, and an Idempotency-Key always picks one queue.
    more = [(await client.enqueue("hot", None)).id for _ in range(3)]
    assert sorted(queue_of(i) or "" for i in more) == sorted(partitions.queues("hot", 3))
    first = await client.enqueue("hot", None, idempotency_key="k1")
    again = await client.enqueue("hot", None, idempotency_key="k1")
    assert (first.created, again.created, again.id) == (True, False, first.id)
    assert queue_of(first.id) == partitions.queue_for_key("hot", 3, "k1")[0]
    # An unpartitioned function keeps its one queue.
    plain = await client.enqueue_many("plain", [1, 2])
    assert [queue_of(i) for i in plain] == ["plain", "plain"]


async def test_cancel_reaches_an_invocation_in_any_queue(redis: Redis, settings: Settings) -> None:
    client = Client(redis, settings)
    client.set_partitions({"hot": {"partitions": 2}})
    ids = [(await client.enqueue("hot", None, delay=60)).id for _ in range(2)]
    assert {queue_of(i) for i in ids} == set(partitions.queues("hot", 2))
    for inv in ids:
        assert await client.stop(inv) == (True, "cancelled")
        record = await client.get(inv)
        assert record is not None and record.status == "cancelled"
