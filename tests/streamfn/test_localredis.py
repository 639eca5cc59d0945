"""Finding a Redis for dev mode: ping, the private redis-server, redacted URLs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from streamfn.localredis import PrivateRedis, RedisUnavailable, free_port, ping, redact


def test_redact_hides_only_the_password() -> None:
    assert redact("redis://u:pw@10.0.0.1:6379/0") == "redis://u:***@10.0.0.1:6379/0"
    assert redact("redis://:pw@h:1/0") == "redis://:***@h:1/0"
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_ping(redis_url: str) -> None:
    assert ping(redis_url) is True
    began = time.monotonic()
    assert ping(f"redis://127.0.0.1:{free_port()}/0") is False
    assert time.monotonic() - began < 2


def test_private_redis_starts_and_is_gone_after_stop() -> None:
    server = PrivateRedis()
    try:
        server.start()
        assert server.child is not None
        pid = server.child.pid
        assert ping(server.url)
        data_dir = Path(f"/proc/{pid}/cwd").resolve()
    finally:
        server.stop()
    assert not ping(server.url, timeout=0.2)
    assert not Path(f"/proc/{pid}").exists()
    assert not data_dir.exists()  # the temp dir went with it


def test_private_redis_without_redis_server_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RedisUnavailable, match="apt-get install redis-server"):
        PrivateRedis().start()
