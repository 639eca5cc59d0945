"""The private redis-server: ping, start and stop by pid, persistence, restarts, extra config."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis

from streamfn.launch import PrivateRedis, RedisUnavailable, free_port, ping


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


def test_the_hint_says_what_else_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RedisUnavailable, match=r"brew install redis\), or pass --redis-url$"):
        PrivateRedis(hint="or pass --redis-url").start()


def _config(server: PrivateRedis, name: str) -> str:
    client = redis.Redis.from_url(server.url, decode_responses=True)
    try:
        return str(client.config_get(name)[name])
    finally:
        client.close()


def test_no_persistence_by_default_and_never_evicting() -> None:
    with PrivateRedis() as server:
        assert _config(server, "appendonly") == "no"
        assert _config(server, "save") == ""
        assert _config(server, "maxmemory-policy") == "noeviction"


def test_a_given_directory_is_used_and_kept(tmp_path: Path) -> None:
    with PrivateRedis(tmp_path) as server:
        assert server.log == tmp_path / "redis.log"
        assert server.child is not None
        assert Path(f"/proc/{server.child.pid}/cwd").resolve() == tmp_path.resolve()
    assert (tmp_path / "redis.log").exists()


def test_aof_survives_a_kill_and_a_restart_on_the_same_port() -> None:
    server = PrivateRedis(persistence="aof")
    try:
        server.start()
        port, first = server.port, server.pid
        client = redis.Redis.from_url(server.url)
        client.set("k", "v")  # in the AOF file before the reply (fsync is what everysec defers)
        client.close()
        server.kill()
        assert not ping(server.url, timeout=0.2)
        server.start()
        assert server.port == port
        assert server.pid != first
        client = redis.Redis.from_url(server.url)
        assert client.get("k") == b"v"
        client.close()
    finally:
        server.stop()


def test_rdb_is_written_on_a_clean_stop(tmp_path: Path) -> None:
    with PrivateRedis(tmp_path, persistence="rdb") as server:
        assert _config(server, "save") != ""
        client = redis.Redis.from_url(server.url)
        client.set("k", "v")
        client.close()
    assert (tmp_path / "dump.rdb").exists()


def test_extra_arguments_start_a_cluster_node() -> None:
    with PrivateRedis(args=("--cluster-enabled", "yes")) as server:
        client = redis.Redis.from_url(server.url, decode_responses=True)
        try:
            assert client.info("cluster")["cluster_enabled"] == 1
        finally:
            client.close()


def test_a_config_file_starts_a_sentinel() -> None:
    with PrivateRedis() as primary:
        config = f"sentinel monitor main 127.0.0.1 {primary.port} 1\n"
        with PrivateRedis(config=config, args=("--sentinel",)) as sentinel:
            client = redis.Redis.from_url(sentinel.url, decode_responses=True)
            try:
                host, port = client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "main")
            finally:
                client.close()
    assert (host, int(port)) == ("127.0.0.1", primary.port)
