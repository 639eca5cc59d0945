"""``streamfn gateway``, ``streamfn runner`` and ``streamfn scheduler``: their flags, bad
settings, and the real processes serving and stopping on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from streamfn.cli import main
from streamfn.client import Client
from streamfn.launch import free_port
from streamfn.settings import Settings
from tests.support.procs import ROOT, env_for, start_gateway, start_scheduler, wait_until
from tests.support.run_cli import child_env, run_streamfn

# --- flags and settings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["runner", "--concurrency", "0"], "--concurrency"),
        (["runner", "--bogus"], "--bogus"),
        (["gateway", "--port", "x"], "--port"),
        (["scheduler", "--bogus"], "--bogus"),
    ],
)
def test_gateway_and_runner_check_their_own_flags(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"usage: streamfn {argv[0]}" in err
    assert complaint in err


def test_gateway_rejects_bad_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STREAMFN_PORT", "eighty")
    assert main(["gateway"]) == 2
    err = capsys.readouterr().err
    assert "STREAMFN_PORT" in err
    assert "eighty" in err


def test_gateway_rejects_a_setting_typo(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STREAMFN_MAX_WIAT", "5")
    assert main(["gateway"]) == 2
    assert "STREAMFN_MAX_WIAT" in capsys.readouterr().err


def test_python_m_gateway_exits_2_on_bad_settings(settings: Settings) -> None:
    env = env_for(settings, STREAMFN_MAX_BODY="-1")
    done = subprocess.run(
        [sys.executable, "-m", "streamfn", "gateway"],
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


def test_runner_bad_settings_exit_2_with_a_clear_message(settings: Settings) -> None:
    env = env_for(settings, STREAMFN_VISIBILITY_TIMEOUT="soon")
    done = subprocess.run(
        [sys.executable, "-m", "streamfn", "runner"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert b"STREAMFN_VISIBILITY_TIMEOUT" in done.stderr


def test_runner_bad_arguments_are_refused(settings: Settings) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "streamfn", "runner", "--concurrency", "0"],
        env=env_for(settings),
        cwd=ROOT,
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert b"--concurrency" in done.stderr


# --- the real processes -------------------------------------------------------------------


def test_runner_burst_drains_and_exits_0(settings: Settings) -> None:
    done = run_streamfn("runner", "--burst", "--concurrency", "2", env=child_env(settings))
    assert done.returncode == 0, done.stderr


def _healthz(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=1) as response:
            return int(response.status) == 200
    except OSError:
        return False


def test_gateway_serves_healthz_and_stops_on_sigterm(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "gateway.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamfn", "gateway"],
        env=child_env(settings, STREAMFN_PORT=str(port), STREAMFN_HOST="127.0.0.1"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not _healthz(f"http://127.0.0.1:{port}/healthz"):
            assert proc.poll() is None, (tmp_path / "gateway.log").read_text()
            assert time.monotonic() < deadline, "gateway never answered /healthz"
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        log.close()


def test_scheduler_bad_settings_exit_2_with_a_clear_message(settings: Settings) -> None:
    env = env_for(settings, STREAMFN_PROMOTE_INTERVAL="often")
    done = subprocess.run(
        [sys.executable, "-m", "streamfn", "scheduler"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert b"STREAMFN_PROMOTE_INTERVAL" in done.stderr


async def test_python_m_scheduler_promotes_and_stops_on_sigterm(
    settings: Settings, tmp_path: Path, redis: Redis
) -> None:
    scheduler = start_scheduler(settings, tmp_path)
    client = Client(redis, settings)
    try:
        scheduled = await client.enqueue("later", {}, delay=0.2)

        async def promoted() -> bool:
            inv = await client.get(scheduled.id)
            return inv is not None and inv.status == "queued"

        await wait_until(promoted, 15, what="the scheduler to promote it")
        scheduler.signal(signal.SIGTERM)
        code = await asyncio.to_thread(scheduler.popen.wait, 30)
        assert code == 0, scheduler.output()
        assert "Traceback" not in scheduler.output()
    finally:
        scheduler.stop()
