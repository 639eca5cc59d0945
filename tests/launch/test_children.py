"""Child processes we start: stopped by pid, killed after the grace, never orphaned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamfn.launch.children import Child, describe_exit, python_module, stop_all

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(path: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def children() -> Iterator[list[Child]]:
    started: list[Child] = []
    yield started
    for child in started:
        child.kill()
        child.wait(5)


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_stop_all_terminates_politely(children: list[Child], tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    child = Child(
        "sleeper",
        _python(f"import pathlib, time; pathlib.Path({str(ready)!r}).touch(); time.sleep(60)"),
    )
    children.append(child)
    child.start(quiet=True)
    _wait_for(ready)
    began = time.monotonic()
    stop_all([child], grace=10)
    assert child.returncode() == -signal.SIGTERM
    assert time.monotonic() - began < 5


def test_stop_all_kills_a_child_that_ignores_sigterm(children: list[Child], tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    code = (
        "import pathlib, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        f"pathlib.Path({str(ready)!r}).touch(); time.sleep(60)"
    )
    child = Child("stubborn", _python(code))
    children.append(child)
    child.start(quiet=True)
    _wait_for(ready)
    stop_all([child], grace=0.3)
    assert child.returncode() == -signal.SIGKILL
    assert not _alive(child.pid)


def test_stop_all_skips_children_never_started() -> None:
    stop_all([Child("never", ["/bin/false"])], grace=0.1)


def test_a_child_dies_with_a_killed_parent(tmp_path: Path) -> None:
    # A parent process that starts one Child and prints its pid, then we SIGKILL the parent.
    code = (
        "import sys, time; from streamfn.launch import Child;"
        "c = Child('orphan', [sys.executable, '-c', 'import time; time.sleep(60)']);"
        "c.start(quiet=True); print(c.pid, flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen(
        _python(code), stdout=subprocess.PIPE, text=True, env={"PYTHONPATH": str(ROOT)}
    )
    assert parent.stdout is not None
    grandchild = int(parent.stdout.readline())
    try:
        parent.kill()
        parent.wait(5)
        deadline = time.monotonic() + 10
        while _alive(grandchild):
            assert time.monotonic() < deadline, "the child outlived its parent"
            time.sleep(0.02)
    finally:
        if _alive(grandchild):
            os.kill(grandchild, signal.SIGKILL)


def test_describe_exit() -> None:
    assert describe_exit(3) == "exit code 3"
    assert describe_exit(-signal.SIGKILL) == "signal SIGKILL"


def test_python_module_uses_this_interpreter() -> None:
    assert python_module("streamfn.runner") == [sys.executable, "-m", "streamfn.runner"]
    assert python_module("streamfn", "runner", "--burst") == [
        sys.executable,
        "-m",
        "streamfn",
        "runner",
        "--burst",
    ]
