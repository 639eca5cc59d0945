"""R7: a spinning sync handler with a 2 s timeout; and cancelling running work through HTTP.

R7 hard: the spinning invocation is failed with TimeoutError and its worker process killed
within 3 s of starting, while an invocation of another function completes within 1 s.
Cancel hard: ``DELETE`` of a running invocation answers 202 ``cancelling``; the runner stops
it (killing its worker) and the invocation ends ``cancelled`` within 1 s.
"""

from __future__ import annotations

import time
from pathlib import Path

import aiohttp
import pytest

from tests.fault.conftest import MakeStack
from tests.fault.figures import record
from tests.fault.harness import eventually
from tests.runner.test_isolation import alive

pytestmark = pytest.mark.fault

SPIN = """
import os, time
TIMEOUT = {timeout}
RETRIES = 0
DEAD_LETTER = False

def handle(payload, ctx):
    with open(os.environ["PROBE_FILE"] + ".spin", "a") as f:
        f.write(f"{{os.getpid()}} {{time.time()}}\\n")
    while True:
        pass
"""


def _spinners(stack_log: Path) -> list[tuple[int, float]]:
    path = Path(str(stack_log) + ".spin")
    if not path.exists():
        return []
    return [
        (int(a), float(b))
        for a, b in (line.split() for line in path.read_text().split("\n") if line)
    ]


async def test_r7_spinning_handler_is_killed_and_others_are_served(make_stack: MakeStack) -> None:
    stack = await make_stack()
    stack.probe()
    (stack.settings.functions_dir / "spin.py").write_text(SPIN.format(timeout=2))
    stack.start_runner()
    gw = await stack.start_gateway()
    await stack.runners_ready(1, "spin")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{gw.url}/invoke/spin") as r:
            spin_id = (await r.json())["id"]

        async def spinning() -> bool:
            return bool(_spinners(stack.probe_log))

        await eventually(spinning, 10, "the spinning handler to start")
        pid, started = _spinners(stack.probe_log)[0]
        sent = time.monotonic()
        async with http.post(f"{gw.url}/invoke/probe?wait=5") as r:
            probe_status = r.status
        probe_s = time.monotonic() - sent
        async with http.get(f"{gw.url}/invocations/{spin_id}?wait=10") as r:
            spin = await r.json()
        detected_s = time.time() - started

        async def gone() -> bool:
            return not alive(pid)

        await eventually(gone, 3, "the spinning worker to be gone")
        killed_s = time.time() - started
    record(
        "R7",
        title="sync handler spinning (while True: pass) with TIMEOUT = 2",
        fault="a handler that never returns and holds a CPU",
        expectation="failed as TimeoutError and its process killed within 3 s; another "
        "function's invocation completes within 1 s meanwhile",
        lost=0,
        duplicates=0,
        recovery_s=round(killed_s, 2),
        detected_s=round(detected_s, 2),
        probe_latency_s=round(probe_s, 3),
        status=spin["status"],
        error_type=spin.get("error", {}).get("type"),
    )
    assert probe_status == 200 and probe_s < 1.0, (probe_status, probe_s)
    assert spin["status"] == "failed" and spin["error"]["type"] == "TimeoutError", spin
    assert detected_s <= 3.0 and killed_s <= 3.0, (detected_s, killed_s)


async def test_cancel_a_running_isolated_invocation_over_http(make_stack: MakeStack) -> None:
    stack = await make_stack()
    (stack.settings.functions_dir / "spin.py").write_text(SPIN.format(timeout=60))
    stack.start_runner()
    gw = await stack.start_gateway()
    await stack.runners_ready(1, "spin")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{gw.url}/invoke/spin") as r:
            spin_id = (await r.json())["id"]

        async def spinning() -> bool:
            return bool(_spinners(stack.probe_log))

        await eventually(spinning, 10, "the handler to start")
        pid, _ = _spinners(stack.probe_log)[0]
        asked = time.monotonic()
        async with http.delete(f"{gw.url}/invocations/{spin_id}") as r:
            answer = (r.status, await r.json())
        async with http.get(f"{gw.url}/invocations/{spin_id}?wait=5") as r:
            final = await r.json()
        stopped_s = time.monotonic() - asked

        async def gone() -> bool:
            return not alive(pid)

        await eventually(gone, 3, "the worker to be killed")
    record(
        "cancel",
        title="DELETE /invocations/{id} of a running (spinning, isolated) invocation",
        fault="a cancel request while the handler runs",
        expectation="202 cancelling, then cancelled within 1 s and the worker killed",
        lost=0,
        duplicates=0,
        recovery_s=round(stopped_s, 3),
        answer=answer[0],
        status=final["status"],
    )
    assert answer == (202, {"id": spin_id, "status": "cancelling"})
    assert final["status"] == "cancelled", final
    assert stopped_s < 1.0
