"""A private redis-server: a free loopback port, its own data dir, stopped by pid.

``streamfn dev`` starts one when no Redis answers, the bench for each run, the tests for the
session and for the scenarios that kill or restart Redis.  Persistence is off by default
(``--save '' --appendonly no``), so nothing outlives the process; ``aof`` and ``rdb`` are for
tests of durability.  Extra arguments and a config file (written into the data dir) let a
caller start a ``--cluster-enabled yes`` node or a Sentinel the same way.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import redis
from redis.exceptions import AuthenticationError, RedisError
from redis.sentinel import Sentinel

from streamfn.launch.children import Child, stop_all
from streamfn.launch.ports import free_port
from streamfn.redis_url import is_sentinel_url, parse_sentinel_url, redact

Persistence = Literal["none", "aof", "rdb"]
PERSISTENCE: dict[Persistence, tuple[str, ...]] = {
    "none": ("--save", "", "--appendonly", "no"),
    "aof": ("--save", "", "--appendonly", "yes", "--appendfsync", "everysec"),
    "rdb": ("--save", "60 1", "--appendonly", "no"),
}
INSTALL = "install it (apt-get install redis-server, or brew install redis)"
START_TRIES = 3
"""A free port can be taken between our probe and redis' bind: a port we picked is retried."""


class RedisUnavailable(RuntimeError):
    """No usable Redis: the message says what to install or configure."""


def ping(url: str, timeout: float = 1.0) -> bool:
    """True if a Redis at ``url`` answers PING within ``timeout`` s.

    A server that answers but refuses our credentials is an error, not "absent": starting a
    private Redis then would hide a wrong password.
    """
    client = _client(url, timeout)
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


def _client(url: str, timeout: float) -> redis.Redis:
    """A synchronous client of ``url``; for a Sentinel URL, of the master the Sentinels name."""
    limits = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    if not is_sentinel_url(url):
        return redis.Redis.from_url(url, **limits)
    target = parse_sentinel_url(url)
    sentinel_kwargs = {**limits, **target.sentinel_kwargs()}
    sentinels = Sentinel(list(target.sentinels), sentinel_kwargs=sentinel_kwargs)  # type: ignore[no-untyped-call]
    nodes = {**limits, **target.node_kwargs()}
    master: redis.Redis = sentinels.master_for(target.service, **nodes)  # type: ignore[no-untyped-call]
    return master


class PrivateRedis:
    """One redis-server process we start; ``stop`` and ``kill`` only ever signal its pid.

    Without ``directory`` it makes a temp dir and deletes it on :meth:`stop`.  After
    :meth:`kill`, :meth:`start` brings it back on the same port with the same data dir (what
    a crash-and-restart test needs).
    """

    def __init__(
        self,
        directory: Path | None = None,
        port: int | None = None,
        *,
        persistence: Persistence = "none",
        args: Sequence[str] = (),
        config: str | None = None,
        hint: str = "",
        pick_port: Callable[[], int] = free_port,
    ) -> None:
        self.dir = directory
        self.port = port or 0
        self.persistence = persistence
        self.args = list(args)
        """Appended to the command line, e.g. ``["--cluster-enabled", "yes"]``."""
        self.config = config
        """Written to ``<dir>/redis.conf`` and passed first (Sentinel needs a writable one)."""
        self.hint = hint
        """What else the user can do when redis-server is missing, e.g. 'or pass --redis-url'."""
        self.child: Child | None = None
        self._owns_dir = directory is None
        self._pick_port = port is None
        self._picker = pick_port
        """Where a free port comes from (a cluster node's must leave room for its bus port)."""

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.child.pid if self.child is not None else None

    @property
    def log(self) -> Path | None:
        return self.dir / "redis.log" if self.dir is not None else None

    def start(self, timeout: float = 10.0) -> None:
        """Start it and wait for PING; raises RedisUnavailable with the reason."""
        exe = shutil.which("redis-server")
        if exe is None:
            extra = f", {self.hint}" if self.hint else ""
            raise RedisUnavailable(f"redis-server is not on PATH: {INSTALL}{extra}")
        if self.dir is None:
            self.dir = Path(tempfile.mkdtemp(prefix="streamfn-redis-"))
        for _ in range(START_TRIES if self._pick_port else 1):
            if self._pick_port:
                self.port = self._picker()
            self.child = Child("redis-server", self._argv(exe)).start(quiet=True)
            if self._wait_ready(self.child, timeout):
                self._pick_port = False  # a restart keeps the port clients know
                return
        raise RedisUnavailable(f"redis-server did not start: {self._log_tail()}")

    def stop(self, grace: float = 10.0) -> None:
        """Stop the server by pid (SIGTERM, then SIGKILL after ``grace``); drop our temp dir."""
        if self.child is not None:
            stop_all([self.child], grace)
        if self._owns_dir and self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def kill(self) -> None:
        """SIGKILL it, as a crash would: the data dir and the port stay for a restart."""
        if self.child is not None and self.child.alive():
            self.child.kill()
            self.child.wait(5.0)

    def __enter__(self) -> PrivateRedis:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _argv(self, exe: str) -> list[str]:
        assert self.dir is not None and self.log is not None
        head = [exe]
        if self.config is not None:
            conf = self.dir / "redis.conf"
            conf.write_text(self.config)
            head.append(str(conf))
        return [
            *head,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.dir),
            "--logfile", str(self.log),
            "--protected-mode", "no",
            "--maxmemory-policy", "noeviction",
            *PERSISTENCE[self.persistence],
            *self.args,
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
        try:
            lines = (self.log or Path("/nonexistent")).read_text(errors="replace").splitlines()
        except OSError:
            return "no log written"
        return " | ".join(line.strip() for line in lines[-3:]) or "empty log"
