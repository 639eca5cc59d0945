"""Isolated handlers: worker processes that timeouts kill, and crashes that are failures.

Scenario R7 (a handler that spins or blocks) and R8 (a handler that ends its own process) of
the reliability plan, against an in-process runner: each case is a failed attempt with a type
that says what happened, the worker is gone, and the runner goes on serving.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from streamfn.client import Client
from streamfn.settings import Settings
from tests.runner.conftest import (
    StartRunner,
    lines,
    recorder,
    wait_final,
    wait_for,
    write_function,
)

PID = """
import os
def handle(payload, ctx):
    return {"pid": os.getpid(), "echo": payload}
"""


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_sync_handler_runs_in_a_reused_worker_process(
    fdir: Path, client: Client, start_runner: StartRunner
) -> None:
    write_function(fdir, "pid", PID + "WORKERS = 1\n")
    runner = await start_runner()
    ids = [(await client.enqueue("pid", {"n": n})).id for n in range(5)]
    invs = await wait_final(client, ids)
    assert [i.status for i in invs] == ["succeeded"] * 5
    pids = {i.result["pid"] for i in invs}
    assert len(pids) == 1, "one warm worker served every call"
    assert pids != {os.getpid()}
    assert [i.result["echo"] for i in invs] == [{"n": n} for n in range(5)]
    assert runner.parts.executor.calls.pools.pids() == list(pids)


async def test_async_handler_can_ask_for_isolation(
    fdir: Path, client: Client, start_runner: StartRunner
) -> None:
    write_function(
        fdir,
        "aiso",
        """
        import asyncio, os
        ISOLATE = True
        async def handle(payload, ctx):
            await asyncio.sleep(0.01)
            return {"pid": os.getpid(), "attempt": ctx.attempt, "id": ctx.invocation_id}
        """,
    )
    await start_runner()
    queued = await client.enqueue("aiso")
    (inv,) = await wait_final(client, [queued.id])
    assert inv.status == "succeeded"
    assert inv.result["pid"] != os.getpid()
    assert (inv.result["attempt"], inv.result["id"]) == (1, queued.id)


async def test_isolation_can_be_turned_off_for_sync_handlers(
    fdir: Path, client: Client, start_runner: StartRunner, settings: Settings
) -> None:
    write_function(fdir, "pid", PID)
    await start_runner(replace(settings, isolate_sync=False))
    queued = await client.enqueue("pid")
    (inv,) = await wait_final(client, [queued.id])
    assert inv.result["pid"] == os.getpid()


async def test_spinning_handler_is_killed_while_others_keep_running(
    fdir: Path, client: Client, start_runner: StartRunner, tmp_path: Path
) -> None:
    log = tmp_path / "spin.log"
    write_function(
        fdir,
        "spin",
        recorder(
            log,
            """
import os
TIMEOUT = 1
RETRIES = 0
DEAD_LETTER = False
def handle(payload, ctx):
    record(os.getpid())
    while True:
        pass
""",
        ),
    )
    write_function(fdir, "quick", "async def handle(payload, ctx):\n    return 1\n")
    await start_runner()
    started = time.monotonic()
    spin = await client.enqueue("spin")
    await wait_for(lambda: bool(lines(log)), 10, "the handler to start")
    (pid,) = (int(row[0]) for row in lines(log))
    probe_started = time.monotonic()
    probe = await client.enqueue("quick")
    await wait_final(client, [probe.id], timeout=5)
    assert time.monotonic() - probe_started < 1.0, "other functions are served meanwhile"
    (inv,) = await wait_final(client, [spin.id], timeout=5)
    assert time.monotonic() - started < 2.5, "killed within the timeout plus a little"
    assert inv.status == "failed"
    assert inv.error["type"] == "TimeoutError"
    assert "killed" in inv.error["message"]
    # The spinning worker is gone and its CPU freed.
    await wait_for(lambda: not alive(pid), 2, "the spinning worker to be killed")


ENDINGS = {
    "exit0": ("import sys\n", "sys.exit(0)", "SystemExit"),
    "exit3": ("import sys\n", "sys.exit(3)", "SystemExit"),
    "raise_systemexit": ("", "raise SystemExit", "SystemExit"),
    "keyboard": ("", "raise KeyboardInterrupt", "KeyboardInterrupt"),
    "os_exit0": ("import os\n", "os._exit(0)", "WorkerCrashed"),
    "os_exit1": ("import os\n", "os._exit(1)", "WorkerCrashed"),
    "segfault": ("import ctypes\n", "ctypes.string_at(0)", "WorkerCrashed"),
    "kill_self": ("import os, signal\n", "os.kill(os.getpid(), signal.SIGKILL)", "WorkerCrashed"),
    "memory": ("MEMORY_MB = 128\n", "b = bytearray(512 * 1024 * 1024)", "MemoryError"),
}


@pytest.mark.parametrize("case", sorted(ENDINGS))
async def test_a_handler_ending_its_process_is_a_failure_and_the_runner_goes_on(
    fdir: Path, client: Client, start_runner: StartRunner, case: str
) -> None:
    head, statement, error_type = ENDINGS[case]
    write_function(
        fdir,
        "ender",
        head
        + "RETRIES = 0\nDEAD_LETTER = False\n"
        + "def handle(payload, ctx):\n"
        + "    if payload:\n"
        + f"        {statement}\n"
        + "    return 'fine'\n",
    )
    runner = await start_runner()
    bad = await client.enqueue("ender", True)
    (inv,) = await wait_final(client, [bad.id])
    assert inv.status == "failed", "never a success, whatever the exit status"
    assert inv.error["type"] == error_type
    if case == "segfault":
        assert inv.error["exit"] == "signal SIGSEGV"
    if case == "memory":
        assert "MEMORY_MB = 128" in inv.error["message"]
    good = await client.enqueue("ender", False)
    (after,) = await wait_final(client, [good.id])
    assert (after.status, after.result) == ("succeeded", "fine")
    assert not runner.stopped.is_set()


async def test_a_pool_never_runs_more_than_workers_at_once(
    fdir: Path, client: Client, start_runner: StartRunner, tmp_path: Path
) -> None:
    log = tmp_path / "overlap.log"
    write_function(
        fdir,
        "narrow",
        recorder(
            log,
            """
import os
WORKERS = 2
def handle(payload, ctx):
    record(os.getpid(), "start", time.monotonic())
    time.sleep(0.2)
    record(os.getpid(), "end", time.monotonic())
""",
        ),
    )
    await start_runner(concurrency=10)
    ids = await client.enqueue_many("narrow", [None] * 6)
    await wait_final(client, ids)
    events = sorted((float(t), kind) for _, kind, t in lines(log))
    running = peak = 0
    for _, kind in events:
        running += 1 if kind == "start" else -1
        peak = max(peak, running)
    assert peak <= 2
    assert len({pid for pid, _, _ in lines(log)}) <= 2


async def test_a_reloaded_function_gets_fresh_workers(
    fdir: Path, client: Client, start_runner: StartRunner
) -> None:
    write_function(fdir, "pid", PID + "VERSION = 1\n")
    runner = await start_runner()
    first = await client.enqueue("pid")
    (a,) = await wait_final(client, [first.id])
    write_function(fdir, "pid", PID.replace('"echo": payload', '"v": 2'))

    async def reloaded() -> bool:
        inv = await client.enqueue("pid")
        (done,) = await wait_final(client, [inv.id])
        return bool(done.result.get("v") == 2)

    deadline = time.monotonic() + 10
    while not await reloaded():
        assert time.monotonic() < deadline, "the new version never ran"
    old = a.result["pid"]
    assert old not in runner.parts.executor.calls.pools.pids()
