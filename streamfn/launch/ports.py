"""Loopback addresses for the processes we start: a free port, and how to reach a bind."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


CLUSTER_BUS_OFFSET = 10_000
"""A Redis Cluster node also listens on its port + 10000 (the cluster bus)."""
PICK_TRIES = 200


def free_cluster_port() -> int:
    """A free port for a Redis Cluster node: it and its bus port (+10000) are free, so it is at
    most 55535 (redis-server refuses a higher one)."""
    for _ in range(PICK_TRIES):
        port = free_port()
        if port + CLUSTER_BUS_OFFSET <= 65535 and _bindable(port + CLUSTER_BUS_OFFSET):
            return port
    raise OSError(f"no free port with a free bus port (+10000) in {PICK_TRIES} tries")


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def reachable(host: str) -> str:
    """The address to reach a server bound to ``host`` from this machine."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host
