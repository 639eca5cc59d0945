"""``streamfn dev``: Redis, a gateway, one runner and the scheduler, started and stopped
together.

Uses the configured Redis if it answers PING, else a private redis-server.  The gateway, the
runner and the scheduler are a :class:`streamfn.launch.Stack`: ordinary ``python -m streamfn
gateway`` / ``runner`` / ``scheduler`` children that read their settings from the environment
we hand them, so dev mode runs exactly the production code, their output on our terminal.
Once the gateway knows every function file it prints ``streamfn ready: <url> (<functions>)``,
the one line a script waits for before its first invocation.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from streamfn.cli.edge import SignalFlag
from streamfn.launch import (
    Child,
    ChildExited,
    NotReady,
    PrivateRedis,
    RedisUnavailable,
    Served,
    Stack,
    describe_exit,
    free_port,
    ping,
)
from streamfn.names import is_function_name
from streamfn.redis_url import redact
from streamfn.settings import Settings

HEALTH_TIMEOUT = 30.0
POLL = 0.1
READY = "streamfn ready:"
"""The start of the one line printed once everything can serve: scripts wait for it."""


class DevError(RuntimeError):
    """Dev mode could not start; the message says what to fix."""


@dataclass
class DevStack:
    """One ``streamfn dev`` run.  :meth:`run` returns the process exit code."""

    settings: Settings
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    signals: SignalFlag = field(default_factory=SignalFlag)
    private: PrivateRedis | None = None
    stack: Stack = field(default_factory=lambda: Stack({}))

    def run(self) -> int:
        with self.signals:
            try:
                return self._run()
            except (DevError, NotReady, RedisUnavailable) as exc:
                self._say(f"streamfn dev: {exc}", self.err)
                return 1
            finally:
                self._stop()

    def _run(self) -> int:
        redis_url = self._redis_url()
        functions = self._functions_dir()
        port = self.settings.port or free_port()
        env = dict(os.environ)
        env.update(
            STREAMFN_REDIS_URL=redis_url,
            STREAMFN_FUNCTIONS_DIR=str(functions),
            STREAMFN_PORT=str(port),
            PYTHONUNBUFFERED="1",
        )
        # Stopped in this order: the runner drains in-flight work while the gateway can still
        # answer its ?wait= callers, and Redis goes last (see _stop).
        self.stack = Stack(env)
        self.stack.start_runner()
        self.stack.start_scheduler()
        gateway = self.stack.start_gateway(port=port)
        ready = self._wait_ready(gateway, functions)
        if ready is None:
            return self._exit_code()
        self._banner(gateway.url, redis_url, functions)
        names = ", ".join(ready.functions) or "no functions yet"
        self._say(f"{READY} {gateway.url} ({names})", self.out)
        while self.signals.signalled is None:
            if (dead := self._dead_child()) is not None:
                return dead
            time.sleep(POLL)
        return 0

    def _redis_url(self) -> str:
        url = self.settings.redis_url
        if ping(url):
            return url
        self._say(f"no Redis answers at {redact(url)}; starting a private redis-server", self.err)
        self.private = PrivateRedis(hint="or set STREAMFN_REDIS_URL to a running Redis")
        self.private.start()
        return self.private.url

    def _functions_dir(self) -> Path:
        path = self.settings.functions_dir.resolve()
        if path.exists() and not path.is_dir():
            raise DevError(f"STREAMFN_FUNCTIONS_DIR={path} is a file: point it at a directory")
        if not path.exists():
            path.mkdir(parents=True)
            self._say(f"created {path}: drop a handler file there and it goes live", self.err)
        return path

    def _wait_ready(self, gateway: Child, functions: Path) -> Served | None:
        """What the gateway serves, once /healthz answers and it knows every function file.

        Ready means a runner has reported to the gateway's catalog (the one ``POST /invoke``
        checks), which names each handler file in the functions directory, deployed (loaded
        by a runner now or, in this namespace, earlier) or failed: an invocation sent the
        moment the ready line shows is accepted, never ``404``.  None on a signal or a dead
        child (already said).
        """
        try:
            return self.stack.wait_ready(
                gateway,
                functions=_handler_names(functions),
                runners=1,
                timeout=HEALTH_TIMEOUT,
                abort=lambda: self.signals.signalled is not None,
            )
        except ChildExited as exc:
            self._say_dead(exc)
            return None

    def _dead_child(self) -> int | None:
        """If a child has exited, say so and return our exit code (1), else None."""
        try:
            self.stack.check_alive()
        except ChildExited as exc:
            self._say_dead(exc)
            return 1
        return None

    def _say_dead(self, exited: ChildExited) -> None:
        child = exited.child
        self._say(
            f"streamfn dev: the {child.name} (pid {child.pid}) stopped unexpectedly "
            f"({describe_exit(exited.code)}); stopping the rest. Its output above says why.",
            self.err,
        )

    def _exit_code(self) -> int:
        return 0 if self.signals.signalled is not None else 1

    def _stop(self) -> None:
        if self.signals.signalled is not None:
            self._say(f"\n{self.signals.signalled.name}: stopping", self.err)
        self.stack.stop(self.settings.shutdown_grace + 5.0)
        if self.private is not None:
            self.private.stop()
        if self.signals.signalled is not None:
            self._say("streamfn dev: stopped everything it started", self.err)

    def _banner(self, base: str, redis_url: str, functions: Path) -> None:
        pids = {c.name: c.pid for c in self.stack.children}
        kind = (
            f"private redis-server, pid {self.private.child.pid}; data is lost on exit"
            if self.private is not None and self.private.child is not None
            else "existing server"
        )
        sample = _sample_function(functions)
        create = (
            []
            if (functions / f"{sample}.py").exists()
            else [
                f"  printf 'async def handle(payload, ctx):\\n    return payload\\n' "
                f"> {shlex.quote(str(functions / 'echo.py'))}"
            ]
        )
        lines = [
            "streamfn dev is up",
            f"  gateway    {base}  (pid {pids['gateway']})",
            f"  runner     concurrency {self.settings.concurrency}  (pid {pids['runner']})",
            f"  scheduler  timers and schedules, with or without runners  "
            f"(pid {pids['scheduler']})",
            f"  redis      {redact(redis_url)}  ({kind})",
            f"  functions  {functions}  (drop a file there and it goes live)",
            "try:",
            *create,
            f"  curl -s -X POST '{base}/invoke/{sample}?wait=5' "
            "-H 'content-type: application/json' -d '{\"hello\": \"world\"}'",
            "Ctrl-C stops everything.",
        ]
        self._say("\n".join(lines), self.out)

    def _say(self, text: str, stream: TextIO) -> None:
        print(text, file=stream, flush=True)


def _handler_names(functions: Path) -> set[str]:
    """The function names the handler files in ``functions`` define."""
    return {
        p.stem
        for p in functions.glob("*.py")
        if not p.name.startswith("_") and is_function_name(p.stem)
    }


def _sample_function(functions: Path) -> str:
    """``echo`` if it is there, else the first public handler, for the sample curl."""
    names = sorted(p.stem for p in functions.glob("*.py") if not p.name.startswith("_"))
    if "echo" in names or not names:
        return "echo"
    return names[0]


def run(settings: Settings) -> int:
    """Entry point of ``streamfn dev``."""
    return DevStack(settings).run()
