"""The process stack: real ``streamfn gateway`` and ``streamfn runner`` children, ready when
the gateway reports the runners' functions, stopped in order by pid, output kept in files."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamfn.launch import ChildExited, NotReady, Stack, wait_ready
from streamfn.settings import Settings
from tests.support.procs import ROOT, env_for

pytestmark = pytest.mark.e2e

ECHO = "async def handle(payload, ctx):\n    return payload\n"


@pytest.fixture
def stack(settings: Settings, tmp_path: Path) -> Stack:
    (settings.functions_dir / "echo.py").write_text(ECHO)
    logs = tmp_path / "logs"
    logs.mkdir()
    return Stack(env_for(settings), logs, cwd=ROOT)


def test_ready_once_the_gateway_reports_the_runner_and_its_functions(stack: Stack) -> None:
    try:
        runner = stack.start_runner("--concurrency", "2")
        gateway = stack.start_gateway()
        assert gateway.port > 0 and gateway.url == f"http://127.0.0.1:{gateway.port}"
        served = stack.wait_ready(gateway, functions={"echo"}, runners=1, timeout=30)
        assert served is not None
        assert served.functions == ("echo",) and served.runners == 1
        assert stack.children == [runner, gateway]  # the stopping order
    finally:
        stack.stop(grace=10)
    assert runner.returncode() == 0, runner.output()
    assert gateway.returncode() == 0, gateway.output()
    assert runner.log is not None and runner.log.parent == stack.log_dir
    assert stack.children == []


async def test_await_ready_is_the_same_on_an_event_loop(stack: Stack) -> None:
    try:
        stack.start_runner()
        gateway = stack.start_gateway()
        served = await stack.await_ready(gateway, functions={"echo"}, runners=1, timeout=30)
        assert "echo" in served.functions
    finally:
        stack.stop(grace=10)


def test_a_child_dying_while_we_wait_is_reported_with_its_log(stack: Stack) -> None:
    try:
        runner = stack.start_runner("--concurrency", "0")  # refused: exits 2 at once
        gateway = stack.start_gateway()
        with pytest.raises(ChildExited) as exited:
            stack.wait_ready(gateway, functions={"echo"}, runners=1, timeout=30)
        assert exited.value.child is runner
        assert exited.value.code == 2
        assert "the runner" in str(exited.value) and "--concurrency" in str(exited.value)
    finally:
        stack.stop(grace=10)


def test_not_ready_in_time_says_what_is_missing(stack: Stack) -> None:
    try:
        gateway = stack.start_gateway()
        with pytest.raises(NotReady, match="not reported yet: nothing_here") as late:
            stack.wait_ready(gateway, functions={"nothing_here"}, timeout=3)
        assert "0 runner(s) reported to the gateway" in str(late.value)
    finally:
        stack.stop(grace=10)


def test_abort_ends_the_wait(stack: Stack) -> None:
    try:
        gateway = stack.start_gateway()
        assert wait_ready(gateway, functions={"echo"}, abort=lambda: True) is None
    finally:
        stack.stop(grace=10)


def test_stop_ends_a_paused_child_too(stack: Stack) -> None:
    gateway = stack.start_gateway()
    stack.wait_ready(gateway, timeout=30)
    gateway.pause()
    stack.stop(grace=10)
    assert gateway.returncode() == 0, gateway.output()
