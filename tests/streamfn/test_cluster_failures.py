"""A Redis Cluster with one master down: the calls of healthy masters are answered, and
redis-py's reset after CLUSTERDOWN spares the commands in flight (real 3-master clusters,
one master killed by pid).  Found by the cluster failover scenario CF1 (tests/fault)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from redis.exceptions import ClusterDownError
from redis.exceptions import ConnectionError as RedisConnectionError

from streamfn.batching import ScriptBatcher
from streamfn.connection import ClusterClient, make_redis
from streamfn.keys import Keys
from streamfn.launch.cluster import PrivateCluster
from streamfn.names import new_invocation_id
from streamfn.scripts import SCRIPTS, Call, PartialBatch, run_batch
from streamfn.scripts.invocation_calls import enqueue
from streamfn.settings import DEFAULTS


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    with PrivateCluster(masters=3) as started:
        yield started


def _two_functions(cluster: PrivateCluster, keys: Keys) -> tuple[str, str, int]:
    """A function on the first master, one on another, and the port of the first's master."""
    names = [f"f{i}" for i in range(64)]
    ports = {n: cluster.master_of(keys.stream(n)).port for n in names}
    first = names[0]
    other = next(n for n in names if ports[n] != ports[first])
    return first, other, ports[first]


def _on(cluster: PrivateCluster, keys: Keys, wanted: Callable[[int], bool]) -> str:
    """A function whose stream's master port is ``wanted``."""
    return next(
        n for n in (f"f{i}" for i in range(64)) if wanted(cluster.master_of(keys.stream(n)).port)
    )


def _call(keys: Keys, function: str) -> Call:
    return enqueue(keys, function, new_invocation_id(function), b"{}")


def _kill(cluster: PrivateCluster, port: int) -> None:
    next(n for n in cluster.nodes if n.port == port).kill()


async def test_a_dead_master_fails_only_its_own_calls(cluster: PrivateCluster) -> None:
    keys = Keys("c" + uuid.uuid4().hex[:8])
    redis = make_redis(replace(DEFAULTS, redis_url=cluster.url, redis_cluster="on"))
    try:
        dead_fn, live_fn, dead_port = _two_functions(cluster, keys)
        await run_batch(redis, [_call(keys, live_fn), _call(keys, dead_fn)])  # scripts loaded
        _kill(cluster, dead_port)  # the cluster stays up for its node timeout (2 s)
        with pytest.raises(PartialBatch) as caught:
            await run_batch(
                redis, [_call(keys, live_fn), _call(keys, dead_fn), _call(keys, live_fn)]
            )
        live, dead, live_again = caught.value.results
        assert isinstance(dead, RedisConnectionError)
        assert live[0] == 1 and live_again[0] == 1  # created: those enqueues ran
        batcher = ScriptBatcher(redis, SCRIPTS.enqueue)
        answers = await asyncio.gather(
            batcher.call(_call(keys, live_fn)),
            batcher.call(_call(keys, dead_fn)),
            return_exceptions=True,
        )
        assert answers[0][0] == 1, answers  # type: ignore[index]
        assert isinstance(answers[1], RedisConnectionError), answers
        with pytest.raises(RedisConnectionError) as only:  # nothing ran: the plain error
            await run_batch(redis, [_call(keys, dead_fn)])
        assert not isinstance(only.value, PartialBatch)
    finally:
        await redis.aclose()


async def test_clusterdown_reset_spares_commands_in_flight(cluster: PrivateCluster) -> None:
    keys = Keys("c" + uuid.uuid4().hex[:8])
    redis = make_redis(replace(DEFAULTS, redis_url=cluster.url, redis_cluster="on"))
    assert isinstance(redis, ClusterClient)
    try:
        await redis.ping()  # the client knows the slots
        # The key and WAIT on the default node: redis-py refreshes its command table there
        # after a reset, and on a dead node that refresh fails and closes every connection
        # (redis-py's own, not this reset's).
        live_node = redis.get_default_node()
        live_fn = _on(cluster, keys, lambda port: port == live_node.port)
        dead_port = cluster.master_of(
            keys.stream(_on(cluster, keys, lambda port: port != live_node.port))
        ).port
        _kill(cluster, dead_port)
        # In flight on a healthy master until after the cluster is down: WAIT for a replica
        # it does not have blocks its full timeout, whatever the cluster's state.
        waiting = asyncio.create_task(
            redis.execute_command("WAIT", 1, 4500, target_nodes=live_node)
        )
        for _ in range(200):  # until a node answers CLUSTERDOWN (node timeout 2 s, then FAIL)
            try:
                await redis.get(keys.stream(live_fn))
            except ClusterDownError:
                break
            except RedisConnectionError:
                pass
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the cluster never answered CLUSTERDOWN")
        assert not waiting.done()
        assert await waiting == 0  # not cut off by the reset: it ran to its timeout
    finally:
        await redis.aclose()
