"""Timers in a runner: delayed invocations start on time, through the runner's timekeeper."""

from __future__ import annotations

from pathlib import Path

from streamfn.client import Client
from tests.runner.conftest import StartRunner, lines, recorder, wait_final, write_function

STAMP = """
async def handle(payload, ctx):
    record(ctx.invocation_id, time.time())
    return None
"""


async def test_delayed_invocations_start_within_100ms_of_due(
    fdir: Path, client: Client, start_runner: StartRunner, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    write_function(fdir, "later", recorder(log, STAMP))
    await start_runner()
    scheduled = [await client.enqueue("later", {}, delay=0.6 + i * 0.07) for i in range(5)]
    assert {s.status for s in scheduled} == {"scheduled"}
    await wait_final(client, [s.id for s in scheduled], 5)
    started = {row[0]: float(row[1]) for row in lines(log)}
    for s in scheduled:
        assert s.due_ms is not None
        late = started[s.id] - s.due_ms / 1000  # same host: Redis TIME and time.time() agree
        assert -0.005 <= late <= 0.1, (s.id, late)
