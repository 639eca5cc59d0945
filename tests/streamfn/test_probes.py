"""The readiness probes dev mode runs against the gateway."""

from __future__ import annotations

from streamfn.localredis import free_port
from streamfn.probes import healthy, reachable, runners


def test_wildcard_binds_are_reached_on_loopback() -> None:
    assert reachable("0.0.0.0") == "127.0.0.1"
    assert reachable("::") == "[::1]"
    assert reachable("::1") == "[::1]"
    assert reachable("127.0.0.1") == "127.0.0.1"


def test_nothing_listening_is_not_ready() -> None:
    base = f"http://127.0.0.1:{free_port()}"
    assert healthy(f"{base}/healthz") is False
    assert runners(f"{base}/functions") == 0
