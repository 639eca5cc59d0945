"""The runner's probes: what /healthz (alive) and /readyz (ready) answer, judged from the read
loops' pulses at a given time, and served by an in-process runner on its metrics port.

The judgement takes ``now`` as an argument, so the bounds are checked without sleeping for
them; the served answers come from a real runner reading a real Redis (tests/e2e has a runner
process whose Redis stalls and dies).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from streamfn.client import Client
from streamfn.launch import free_port
from streamfn.runner.health import ALIVE_WITHIN_S, READY_WITHIN_S, liveness, readiness
from streamfn.runner.metrics_server import LIVENESS_PATH, READINESS_PATH
from streamfn.runner.pulse import Pulse
from streamfn.settings import Settings
from tests.runner.conftest import StartRunner, lines, recorder, wait_for, write_function

NOW = 1000.0


def pulse(answered_ago: float, ended_ago: float | None = None, **kw: Any) -> Pulse:
    ended = answered_ago if ended_ago is None else ended_ago
    return Pulse(answered=NOW - answered_ago, ended=NOW - ended, **kw)


def judge(pulses: dict[str, Pulse], **kw: bool) -> tuple[tuple[bool, str], tuple[bool, str]]:
    """(alive, ready) as (ok, status) pairs."""
    state = {"started": True, "draining": False, **kw}
    alive = liveness(pulses, now=NOW, **state)
    ready = readiness(pulses, now=NOW, **state)
    return (alive.ok, alive.status), (ready.ok, ready.status)


def test_a_loop_whose_reads_are_answered_is_alive_and_ready() -> None:
    assert judge({"*": pulse(0.4)}) == ((True, "ok"), (True, "ok"))


def test_reads_unanswered_past_the_bound_is_alive_but_not_ready() -> None:
    # Redis down or stalled: rounds end (failed reads, backoff), none is answered.
    stale = pulse(READY_WITHIN_S + 0.1, ended_ago=1.0)
    assert judge({"*": stale}) == ((True, "ok"), (False, "reads_unanswered"))
    assert judge({"*": pulse(READY_WITHIN_S - 0.1, ended_ago=1.0)})[1] == (True, "ok")


def test_a_loop_that_ends_no_round_is_dead() -> None:
    stuck = pulse(ALIVE_WITHIN_S + 1)
    assert judge({"*": stuck}) == ((False, "read_loop_stuck"), (False, "read_loop_stuck"))
    assert judge({"*": pulse(ALIVE_WITHIN_S - 1)})[0] == (True, "ok")


def test_a_loop_whose_task_ended_is_dead_at_once() -> None:
    assert judge({"*": pulse(0.1, running=False)})[0] == (False, "read_loop_stuck")


def test_waiting_for_free_slots_is_alive_and_ready_however_long() -> None:
    busy = pulse(ALIVE_WITHIN_S * 10, waiting=True)
    assert judge({"*": busy}) == ((True, "ok"), (True, "ok"))


def test_one_stale_shard_read_makes_the_runner_not_ready() -> None:
    pulses = {"{ns:0:1}": pulse(0.2), "{ns:1:0}": pulse(READY_WITHIN_S + 1, ended_ago=0.5)}
    assert judge(pulses) == ((True, "ok"), (False, "reads_unanswered"))


def test_draining_is_alive_and_not_ready_starting_is_neither() -> None:
    stopped_reads = {"*": pulse(ALIVE_WITHIN_S + 5, running=False)}
    assert judge(stopped_reads, draining=True) == ((True, "draining"), (False, "draining"))
    assert judge({}, started=False) == ((False, "starting"), (False, "starting"))


def test_the_answer_names_each_read_and_how_long_ago() -> None:
    body = readiness({"*": pulse(0.25, ended_ago=0.125)}, started=True, draining=False, now=NOW)
    assert body.to_json() == {
        "status": "ok",
        "reads": {"*": {"answered_s_ago": 0.25, "ended_s_ago": 0.125, "waiting_for_slots": False}},
    }


async def probe(http: aiohttp.ClientSession, port: int, path: str) -> tuple[int, dict[str, Any]]:
    async with http.get(f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.json()


@pytest.fixture
def port() -> int:
    return free_port()


async def test_a_runner_serves_both_probes_and_drains_not_ready(
    settings: Settings,
    fdir: Path,
    client: Client,
    start_runner: StartRunner,
    tmp_path: Path,
    port: int,
) -> None:
    log = tmp_path / "runs.log"
    source = "async def handle(payload, ctx):\n    record(1)\n    await asyncio.sleep(4)\n"
    write_function(fdir, "slow", recorder(log, source))
    use = replace(settings, runner_metrics_port=port, shutdown_grace=10.0)
    runner = await start_runner(use, concurrency=1)
    async with aiohttp.ClientSession() as http:
        status, body = await probe(http, port, LIVENESS_PATH)
        assert (status, body["status"]) == (200, "ok")
        status, body = await probe(http, port, READINESS_PATH)
        assert (status, body["status"]) == (200, "ok")
        assert set(body["reads"]) == set(runner.parts.reader.pulses())

        # Its one slot busy: the read waits on purpose, past the readiness bound, and stays
        # ready (a runner full of work is healthy).
        await client.enqueue("slow", None)
        await wait_for(lambda: len(lines(log)) == 1, 5, "slow to start")
        await asyncio.sleep(READY_WITHIN_S + 0.5)
        status, body = await probe(http, port, READINESS_PATH)
        assert (status, body["status"]) == (200, "ok")
        assert [r["waiting_for_slots"] for r in body["reads"].values()] == [True]

        # SIGTERM while it runs: not ready at once, alive while the grace lasts.
        runner.request_stop()
        status, body = await probe(http, port, READINESS_PATH)
        assert (status, body["status"]) == (503, "draining")
        status, body = await probe(http, port, LIVENESS_PATH)
        assert (status, body["status"]) == (200, "draining")
    await asyncio.wait_for(runner.stopped.wait(), 15)
