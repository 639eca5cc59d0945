"""The cluster and Sentinel launchers start real topologies and stop every process by pid."""

from __future__ import annotations

import redis

from streamfn.launch.cluster import PrivateCluster
from streamfn.launch.sentinel import PrivateSentinel


def test_a_three_master_cluster_serves_every_slot_and_stops() -> None:
    with PrivateCluster(masters=3) as cluster:
        assert len(cluster.nodes) == 3
        client = redis.RedisCluster(host="127.0.0.1", port=cluster.nodes[0].port)
        try:
            for i in range(30):
                client.set(f"k{i}", i)
            owners = {cluster.master_of(f"k{i}").port for i in range(30)}
            assert len(owners) == 3, "30 keys spread over the three masters"
            assert client.get("k7") == b"7"
        finally:
            client.close()
        pids = [node.pid for node in cluster.nodes]
    assert all(pid is not None for pid in pids)
    assert cluster.nodes == []


def test_a_sentinel_deployment_names_its_master() -> None:
    with PrivateSentinel(replicas=1, sentinels=3) as deployment:
        assert deployment.master is not None
        assert deployment.master_port() == deployment.master.port
        assert deployment.url.startswith("redis+sentinel://127.0.0.1:")
        assert deployment.url.endswith("/mymaster/0")
        replica = redis.Redis(port=deployment.replicas[0].port)
        try:
            assert replica.info("replication")["role"] == "slave"
        finally:
            replica.close()
