"""Metrics: outcomes and durations per loaded function, stream gauges, and the /metrics page."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import aiohttp

from streamfn.client import Client
from streamfn.launch import free_port
from streamfn.runner.metrics import Metrics
from streamfn.settings import Settings
from tests.runner.conftest import StartRunner, lines, recorder, wait_final, wait_for, write_function


def test_labels_only_name_loaded_functions() -> None:
    metrics = Metrics(lambda name: name == "known")
    metrics.outcome("known", "succeeded")
    metrics.outcome("made_up", "scheduled")
    metrics.outcome("known", "dead")
    metrics.outcome("known", "error: nothing we count")
    sample = metrics.registry.get_sample_value
    assert sample("streamfn_invocations_total", {"function": "known", "outcome": "succeeded"}) == 1
    assert sample("streamfn_invocations_total", {"function": "unknown", "outcome": "retried"}) == 1
    assert sample("streamfn_retries_total", {"function": "unknown"}) == 1
    assert sample("streamfn_dead_letters_total", {"function": "known"}) == 1
    assert (
        sample("streamfn_invocations_total", {"function": "made_up", "outcome": "retried"}) is None
    )


async def test_metrics_page_shows_outcomes_and_stream_gauges(
    settings: Settings, fdir: Path, client: Client, start_runner: StartRunner, tmp_path: Path
) -> None:
    log = tmp_path / "runs.log"
    write_function(fdir, "echo", "async def handle(payload, ctx):\n    return payload\n")
    write_function(
        fdir,
        "slow",
        recorder(
            log, "async def handle(payload, ctx):\n    record(1)\n    await asyncio.sleep(5)\n"
        ),
    )
    port = free_port()
    runner = await start_runner(replace(settings, runner_metrics_port=port), concurrency=1)
    ids = await client.enqueue_many("echo", [1, 2, 3])
    await wait_final(client, ids)
    await client.enqueue_many("slow", [None, None])
    await wait_for(lambda: len(lines(log)) == 1, 5, "slow to start")
    runner.parts.gauges.wake()

    async with aiohttp.ClientSession() as http:

        async def page() -> str:
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200
                return await response.text()

        async def gauges_fresh() -> bool:
            return 'streamfn_stream_depth{function="slow"} 2.0' in await page()

        await wait_for(gauges_fresh, 5, "the stream gauges")
        text = await page()
    assert 'streamfn_invocations_total{function="echo",outcome="succeeded"} 3.0' in text
    assert 'streamfn_invocation_duration_seconds_count{function="echo"} 3.0' in text
    assert "streamfn_in_flight 1.0" in text
    assert 'streamfn_stream_oldest_age_seconds{function="slow"}' in text
    assert 'streamfn_stream_depth{function="echo"} 0.0' in text
