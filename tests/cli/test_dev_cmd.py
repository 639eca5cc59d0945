"""``streamfn dev`` as a real process: private Redis, gateway, runner, and a clean stop.

Every process is checked by pid: the ones the banner names and every descendant /proc shows.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from streamfn.launch import free_port
from streamfn.settings import Settings

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
UP = "streamfn dev is up"
READY = re.compile(r"^streamfn ready: (http://\S+) \(([^)]*)\)$", re.MULTILINE)
BANNER_PID = re.compile(r"^\s+(gateway|runner|redis)\s.*\bpid (\d+)", re.MULTILINE)
ECHO = "async def handle(payload, ctx):\n    return payload\n"


@dataclass
class Dev:
    """A running ``streamfn dev`` and where its output goes."""

    proc: subprocess.Popen[bytes]
    log: Path
    port: int

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in (out := self.output()):
            assert self.proc.poll() is None, f"streamfn dev exited early:\n{out}"
            assert time.monotonic() < deadline, f"no {text!r} within {timeout} s:\n{out}"
            time.sleep(0.05)
        return out

    def banner_pids(self) -> dict[str, int]:
        return {name: int(pid) for name, pid in BANNER_PID.findall(self.output())}


def _alive(pid: int) -> bool:
    """Running, not a zombie.  /proc, so no signal is ever sent to test it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def descendants(root: int) -> set[int]:
    """Every live process below ``root``, from the parent pids in /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return {pid for pid in found if _alive(pid)}


def wait_gone(pids: set[int], timeout: float = 10.0) -> set[int]:
    """The pids still alive after ``timeout`` s (orphans are reaped by init asynchronously)."""
    deadline = time.monotonic() + timeout
    while (left := {p for p in pids if _alive(p)}) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@contextmanager
def streamfn_dev(
    settings: Settings, tmp_path: Path, *, redis_url: str, **extra: str
) -> Iterator[Dev]:
    functions = tmp_path / "fns"
    functions.mkdir()
    (functions / "echo.py").write_text(ECHO)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMFN_")}
    env.update(
        STREAMFN_REDIS_URL=redis_url,
        STREAMFN_NAMESPACE=settings.namespace,
        STREAMFN_FUNCTIONS_DIR=str(functions),
        STREAMFN_PORT=str(port),
        STREAMFN_HOST="127.0.0.1",
        STREAMFN_RUNNER_METRICS_PORT="0",
        STREAMFN_SHUTDOWN_GRACE="2",
        STREAMFN_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    log = tmp_path / "dev.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamfn", "dev"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    dev = Dev(proc, log, port)
    seen: set[int] = set()
    try:
        yield dev
    finally:
        # Whatever happened in the test: nothing we started may outlive it.
        seen |= set(dev.banner_pids().values()) | descendants(proc.pid)
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for pid in wait_gone(seen, timeout=5.0):
            os.kill(pid, signal.SIGKILL)


def invoke_echo(port: int, payload: object, wait: float = 10) -> dict[str, object]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invoke/echo?wait={wait:g}",
        data=orjson.dumps(payload),
        headers={"content-type": "application/json"},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=15) as response:
        body: dict[str, object] = orjson.loads(response.read())
        return body


def healthz(port: int) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        return int(response.status)


def test_dev_starts_a_private_redis_and_sigint_stops_everything(
    settings: Settings, tmp_path: Path
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    with streamfn_dev(settings, tmp_path, redis_url=closed) as dev:
        out = dev.wait_for_output(UP)
        assert healthz(dev.port) == 200
        pids = dev.banner_pids()
        assert set(pids) == {"gateway", "runner", "redis"}, out
        assert "private redis-server" in out
        assert f"http://127.0.0.1:{dev.port}/invoke/echo" in out  # the sample curl
        everything = descendants(dev.proc.pid)
        assert set(pids.values()) <= everything

        body = invoke_echo(dev.port, {"hello": "dev"})
        assert body["status"] == "succeeded", body
        assert body["result"] == {"hello": "dev"}

        dev.proc.send_signal(signal.SIGINT)
        assert dev.proc.wait(30) == 0, dev.output()
        assert wait_gone(everything) == set()
        assert "Traceback" not in dev.output()


@pytest.mark.parametrize("attempt", range(3))
def test_an_invocation_sent_at_the_ready_line_succeeds(
    settings: Settings, tmp_path: Path, attempt: int
) -> None:
    """What a CI smoke test does: wait for the line, then invoke at once; never a 404."""
    closed = f"redis://127.0.0.1:{free_port()}/0"
    with streamfn_dev(settings, tmp_path, redis_url=closed) as dev:
        dev.wait_for_output("streamfn ready:")
        match = READY.search(dev.output())
        assert match is not None, dev.output()
        assert match.group(1) == f"http://127.0.0.1:{dev.port}"
        assert match.group(2) == "echo"
        body = invoke_echo(dev.port, {"attempt": attempt}, wait=5)
        assert body["status"] == "succeeded", body
        assert body["result"] == {"attempt": attempt}
        out = dev.output()
        assert out.index(UP) < out.index("streamfn ready:"), "the ready line comes last"


def test_dev_uses_a_redis_that_answers_and_stops_on_sigterm(
    settings: Settings, tmp_path: Path
) -> None:
    with streamfn_dev(settings, tmp_path, redis_url=settings.redis_url) as dev:
        out = dev.wait_for_output(UP)
        assert "existing server" in out
        assert set(dev.banner_pids()) == {"gateway", "runner"}
        everything = descendants(dev.proc.pid)
        dev.proc.send_signal(signal.SIGTERM)
        assert dev.proc.wait(30) == 0, dev.output()
        assert wait_gone(everything) == set()


def test_dev_stops_the_rest_and_fails_when_a_child_dies(settings: Settings, tmp_path: Path) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    with streamfn_dev(settings, tmp_path, redis_url=closed) as dev:
        dev.wait_for_output(UP)
        pids = dev.banner_pids()
        everything = descendants(dev.proc.pid)
        os.kill(pids["runner"], signal.SIGKILL)
        assert dev.proc.wait(30) == 1
        out = dev.output()
        assert f"the runner (pid {pids['runner']}) stopped unexpectedly (signal SIGKILL)" in out
        assert wait_gone(everything) == set()


def test_dev_without_redis_server_says_how_to_install_it(
    settings: Settings, tmp_path: Path
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    with streamfn_dev(settings, tmp_path, redis_url=closed, PATH=str(empty)) as dev:
        assert dev.proc.wait(30) == 1
        out = dev.output()
        assert "redis-server is not on PATH" in out
        assert "install" in out
        assert "Traceback" not in out
        assert UP not in out
