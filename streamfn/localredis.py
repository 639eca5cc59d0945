"""Find a Redis for ``streamfn dev``: the configured one if it answers, else a private one.

The private server is a throwaway: a free loopback port, a temp dir, no RDB snapshots and no
AOF, so nothing outlives ``streamfn dev``.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
from redis.exceptions import AuthenticationError, RedisError

from streamfn.procs import Child, stop_all


class RedisUnavailable(RuntimeError):
    """No usable Redis: the message says what to install or configure."""


def redact(url: str) -> str:
    """``url`` without its password, for banners and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def ping(url: str, timeout: float = 1.0) -> bool:
    """True if a Redis at ``url`` answers PING within ``timeout`` s.

    A server that answers but refuses our credentials is an error, not "absent": starting a
    private Redis then would hide a wrong password.
    """
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except AuthenticationError as exc:
        raise RedisUnavailable(
            f"Redis at {redact(url)} refused the credentials ({exc}): fix STREAMFN_REDIS_URL"
        ) from None
    except (RedisError, OSError):
        return False
    finally:
        client.close()


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PrivateRedis:
    """A redis-server from PATH that lives exactly as long as ``streamfn dev``."""

    def __init__(self) -> None:
        self.port = 0
        self.child: Child | None = None
        self._dir: Path | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start it and wait for PING; raises RedisUnavailable with the reason."""
        exe = shutil.which("redis-server")
        if exe is None:
            raise RedisUnavailable(
                "no Redis answers and redis-server is not on PATH: install it "
                "(apt-get install redis-server, or brew install redis), or set "
                "STREAMFN_REDIS_URL to a running Redis"
            )
        self._dir = Path(tempfile.mkdtemp(prefix="streamfn-dev-redis-"))
        # A free port can be taken between our probe and redis' bind: try a few.
        for _ in range(3):
            self.port = free_port()
            self.child = Child("redis-server", self._argv(exe))
            self.child.start(quiet=True)
            if self._wait_ready(self.child, timeout):
                return
        raise RedisUnavailable(f"redis-server did not start: {self._log_tail()}")

    def stop(self, grace: float = 5.0) -> None:
        """Stop the server by pid and delete its temp dir."""
        if self.child is not None:
            stop_all([self.child], grace)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def _argv(self, exe: str) -> list[str]:
        assert self._dir is not None
        return [
            exe,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self._dir),
            "--save", "",
            "--appendonly", "no",
            "--maxmemory-policy", "noeviction",
            "--logfile", str(self._dir / "redis.log"),
        ]  # fmt: skip

    def _wait_ready(self, child: Child, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if child.returncode() is not None:
                return False
            if ping(self.url, timeout=0.2):
                return True
            time.sleep(0.02)
        stop_all([child], 2.0)
        return False

    def _log_tail(self) -> str:
        log = (self._dir or Path("/nonexistent")) / "redis.log"
        try:
            lines = log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log written"
        return " | ".join(lines[-3:]) or "empty log"
