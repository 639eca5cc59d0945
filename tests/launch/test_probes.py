"""The HTTP probes the launcher runs against a gateway, and reaching a bind address."""

from __future__ import annotations

import socket

from streamfn.launch.ports import CLUSTER_BUS_OFFSET, free_cluster_port, free_port, reachable
from streamfn.launch.probes import Served, healthy, parse_served, runners


def test_wildcard_binds_are_reached_on_loopback() -> None:
    assert reachable("0.0.0.0") == "127.0.0.1"
    assert reachable("::") == "[::1]"
    assert reachable("::1") == "[::1]"
    assert reachable("127.0.0.1") == "127.0.0.1"


def test_a_cluster_node_port_leaves_room_for_its_bus_port() -> None:
    """redis-server refuses a cluster port over 55535 (its bus is the port + 10000)."""
    for _ in range(50):
        port = free_cluster_port()
        assert port + CLUSTER_BUS_OFFSET <= 65535
        with socket.socket() as a, socket.socket() as b:  # both free right now
            a.bind(("127.0.0.1", port))
            b.bind(("127.0.0.1", port + CLUSTER_BUS_OFFSET))


def test_nothing_listening_is_not_ready() -> None:
    base = f"http://127.0.0.1:{free_port()}"
    assert healthy(f"{base}/healthz") is False
    assert runners(f"{base}/functions") == 0


def test_parse_served_reads_the_functions_envelope() -> None:
    """What readiness (``streamfn dev``, the bench, the tests) reads from ``GET /functions``."""
    body = b'{"runners": 2, "functions": [{"name": "noop"}], "errors": {"bad.py": "boom"}}'
    assert parse_served(body) == Served(2, ("noop",), ("bad",))
    assert "noop" not in parse_served(b'{"functions": [{"name": "echo"}]}').functions
    assert parse_served(None) == Served()
    assert parse_served(b"not json") == Served()
    assert parse_served(b'["noop"]') == Served()
