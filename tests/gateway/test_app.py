"""The app factory, ``serve``/``start``, ``main`` and ``python -m gateway``."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from streamfn.gateway.app import create_app, main, start
from streamfn.gateway.state import CATALOG, CLIENT, METRICS, REDIS, SETTINGS
from streamfn.settings import Settings
from tests.support.procs import env_for, start_gateway, wait_until

ROOT = Path(__file__).resolve().parents[2]


def test_create_app_holds_settings_and_metrics(settings: Settings) -> None:
    app = create_app(settings)
    assert app[SETTINGS] is settings
    assert app[METRICS] is not None
    assert REDIS not in app  # connected on startup, not in the factory


async def test_start_owns_and_releases_services(settings: Settings) -> None:
    runner = await start(settings)
    try:
        app = runner.app
        assert app[CATALOG].healthy
        assert app[CLIENT].redis is app[REDIS]
        host, port = runner.addresses[0][:2]
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://{host}:{port}/healthz") as response,
        ):
            assert response.status == 200
    finally:
        await runner.cleanup()


def test_main_rejects_bad_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STREAMFN_PORT", "eighty")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "STREAMFN_PORT" in err
    assert "eighty" in err


def test_main_rejects_a_setting_typo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STREAMFN_MAX_WIAT", "5")
    assert main([]) == 2
    assert "STREAMFN_MAX_WIAT" in capsys.readouterr().err


def test_python_m_gateway_exits_2_on_bad_settings(settings: Settings) -> None:
    env = env_for(settings, STREAMFN_MAX_BODY="-1")
    done = subprocess.run(
        [sys.executable, "-m", "streamfn.gateway"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert b"STREAMFN_MAX_BODY" in done.stderr
    assert b"Traceback" not in done.stderr


async def test_python_m_gateway_serves_and_stops_on_sigterm(
    settings: Settings, tmp_path: Path
) -> None:
    gateway = await start_gateway(settings, tmp_path)
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{gateway.url}/functions") as response,
        ):
            assert response.status == 200
        gateway.signal(signal.SIGTERM)
        code = await asyncio.to_thread(gateway.popen.wait, 30)
        assert code == 0, gateway.output()
        assert "Traceback" not in gateway.output()
    finally:
        gateway.stop()


async def test_shutdown_answers_waiting_requests(
    settings: Settings, known: tuple[str, ...]
) -> None:
    """A deploy must not cut off a client waiting on ?wait=: it gets a 202 to poll with."""
    runner = await start(replace(settings, shutdown_grace=30))
    host, port = runner.addresses[0][:2]
    hub = runner.app[CLIENT].waiters
    async with aiohttp.ClientSession() as session:

        async def call(path: str) -> tuple[int, Any]:
            async with session.request(
                "POST" if path.startswith("/invoke") else "GET", f"http://{host}:{port}{path}"
            ) as response:
                return response.status, await response.json()

        _, first = await call("/invoke/slow")
        polled = asyncio.create_task(call(f"/invocations/{first['id']}?wait=60"))
        invoked = asyncio.create_task(call("/invoke/slow?wait=60"))

        async def two_waiting() -> bool:
            return hub.waiting == 2

        await wait_until(two_waiting, 10, what="both requests to wait")
        started = time.monotonic()
        await runner.cleanup()
        assert time.monotonic() - started < 10
        status, body = await invoked
        assert (status, body["status"]) == (202, "queued")
        status, body = await polled
        assert (status, body["status"]) == (200, "queued")
