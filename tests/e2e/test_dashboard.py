"""The dashboard in a real browser (Debian's headless Chromium, driven by Playwright), against
a real gateway and runner: every page loads, and what a user does there is checked in Redis as
well as on the page."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Page, expect
from redis.asyncio import Redis

from streamfn.client import Client
from streamfn.keys import Keys
from streamfn.launch import Child
from streamfn.settings import Settings
from tests.support.dashboard import browser
from tests.support.procs import start_gateway, start_runner, wait_until

pytestmark = pytest.mark.e2e

HANDLERS = {
    "echo": "async def handle(payload, ctx):\n    return payload\n",
    "boom": (
        "from streamfn import PermanentError\n\n"
        "async def handle(payload, ctx):\n    raise PermanentError('boom ' + str(payload))\n"
    ),
    "slow": "import asyncio\n\nasync def handle(payload, ctx):\n    await asyncio.sleep(60)\n",
    "chatty": (
        "async def handle(payload, ctx):\n"
        "    ctx.log.warning('resizing %s', payload)\n    return 'done'\n"
    ),
}
TIMEOUT_MS = 15_000


async def status_of(client: Client, invocation_id: str) -> str | None:
    inv = await client.get(invocation_id)
    return None if inv is None else inv.status


async def invoke(http: aiohttp.ClientSession, gw: Child, fn: str, body: Any) -> str:
    async with http.post(f"{gw.url}/invoke/{fn}", json=body) as r:
        assert r.status == 202, await r.text()
        got: dict[str, Any] = await r.json()
        return str(got["id"])


@pytest.fixture
async def stack(settings: Settings, tmp_path: Path, procs: list[Child]) -> Child:
    for name, code in HANDLERS.items():
        (settings.functions_dir / f"{name}.py").write_text(code)
    procs.append(start_runner(settings, tmp_path))
    gateway = await start_gateway(settings, tmp_path)
    procs.append(gateway)
    return gateway


async def open_page(page: Page, url: str) -> None:
    """A fresh load of ``url`` (a goto that changes only the hash would not reload the page,
    and the previous view would still say it is ready)."""
    await page.goto("about:blank")
    await page.goto(url)
    # The page's CSP forbids evaluated strings, so wait on the DOM, not on a JS predicate.
    await page.locator('body[data-ready="1"]').wait_for(timeout=TIMEOUT_MS)


async def test_every_page_loads_and_lists_what_redis_holds(
    stack: Child, client: Client, page_dir: Path, http: aiohttp.ClientSession
) -> None:
    done = await invoke(http, stack, "echo", {"hello": "world"})
    await wait_until(lambda: _is(client, done, "succeeded"), 15, what="echo to finish")
    async with browser() as b:
        page = await b.new_page()
        await open_page(page, f"{stack.url}/ui")
        for name in HANDLERS:  # the runner's report reached the page
            await expect(page.locator(f'tr[data-function="{name}"]')).to_be_visible(
                timeout=TIMEOUT_MS
            )
        await page.screenshot(path=str(page_dir / "functions.png"), full_page=True)
        for hash_, shot in (
            ("#/functions/echo", "function.png"),
            ("#/schedules", "schedules.png"),
            ("#/runners", "runners.png"),
        ):
            await open_page(page, f"{stack.url}/ui{hash_}")
            await expect(page.locator("main h1")).to_be_visible()
            await page.screenshot(path=str(page_dir / shot), full_page=True)
        await expect(page.locator("#runners tbody tr")).to_have_count(1)
        await open_page(page, f"{stack.url}/ui#/functions/echo")
        await expect(page.locator(f'tr[data-invocation="{done}"]')).to_be_visible()  # the index
        await open_page(page, f"{stack.url}/ui#/invocations/{done}")
        await expect(page.locator("main")).to_contain_text('"hello": "world"')
        await page.screenshot(path=str(page_dir / "invocation.png"), full_page=True)


async def test_run_now_shows_the_result(stack: Child, client: Client) -> None:
    async with browser() as b:
        page = await b.new_page()
        await open_page(page, f"{stack.url}/ui#/functions/echo")
        await page.fill("#run-payload", '{"from": "the page"}')
        await page.click("#run-form button[type=submit]")
        result = page.locator("#run-result")
        await expect(result).to_contain_text("succeeded", timeout=TIMEOUT_MS)
        await expect(result).to_contain_text('"from": "the page"')
        invocation_id = await result.locator("a").inner_text()
    inv = await client.get(invocation_id)  # what the page shows is what Redis holds
    assert inv is not None and inv.status == "succeeded"
    assert inv.result == {"from": "the page"}


async def test_replay_a_dead_letter_from_the_page(
    stack: Child, client: Client, http: aiohttp.ClientSession, redis: Redis, keys: Keys
) -> None:
    dead = await invoke(http, stack, "boom", 1)
    await wait_until(lambda: _is(client, dead, "dead"), 15, what="boom to be dead")
    async with browser() as b:
        page = await b.new_page()
        await open_page(page, f"{stack.url}/ui#/functions/boom")
        row = page.locator(f'tr[data-dead="{dead}"]')
        await expect(row).to_be_visible(timeout=TIMEOUT_MS)
        await row.get_by_role("button", name="Replay").click()
        # Replayed: it ran again (and died again: the handler always raises).
        await wait_until(lambda: _replayed(redis, keys, dead), 15, what="the replay")
        await wait_until(lambda: _is(client, dead, "dead"), 15, what="the rerun to finish")
        inv = await client.get(dead)
        assert inv is not None and inv.status == "dead"


async def test_cancel_a_running_invocation_from_the_page(
    stack: Child, client: Client, http: aiohttp.ClientSession
) -> None:
    running = await invoke(http, stack, "slow", None)
    await wait_until(lambda: _is(client, running, "running"), 15, what="slow to start")
    async with browser() as b:
        page = await b.new_page()
        await open_page(page, f"{stack.url}/ui#/invocations/{running}")
        await expect(page.locator("main h1")).to_contain_text("running", timeout=TIMEOUT_MS)
        await page.click("#cancel")
        await wait_until(lambda: _is(client, running, "cancelled"), 15, what="the cancel")
        await expect(page.locator("main h1")).to_contain_text("cancelled", timeout=TIMEOUT_MS)


async def test_create_and_pause_a_schedule_from_the_page(
    stack: Child, http: aiohttp.ClientSession, redis: Redis, keys: Keys
) -> None:
    async with browser() as b:
        page = await b.new_page()
        await open_page(page, f"{stack.url}/ui#/schedules")
        await page.fill('#schedule-form input[name="id"]', "from-the-page")
        await page.fill('#schedule-form input[name="function"]', "echo")
        await page.fill('#schedule-form input[name="every"]', "1h")
        await page.fill('#schedule-form input[name="payload"]', '{"n": 1}')
        await page.click("#schedule-form button[type=submit]")
        row = page.locator('tr[data-schedule="from-the-page"]')
        await expect(row).to_be_visible(timeout=TIMEOUT_MS)
        await row.get_by_role("button", name="Pause").click()
        await expect(row.locator(".badge")).to_have_text("paused", timeout=TIMEOUT_MS)
    async with http.get(f"{stack.url}/schedules/from-the-page") as r:
        stored = await r.json()
    assert (stored["paused"], stored["every"], stored["payload"]) == (True, "1h", {"n": 1})
    assert await redis.hget(keys.schedule_index, "from-the-page") == b"echo"  # in Redis


async def _is(client: Client, invocation_id: str, status: str) -> bool:
    return await status_of(client, invocation_id) == status


async def _replayed(redis: Redis, keys: Keys, invocation_id: str) -> bool:
    fn = invocation_id.split(".", 1)[0]
    return await redis.hexists(keys.invocation(fn, invocation_id), "replayed") == 1


@pytest.fixture
def page_dir(tmp_path: Path) -> Path:
    """Where the page screenshots go: ``STREAMFN_TEST_SCREENSHOTS`` (the README's come from
    ``docs/screenshots``), else the test's temporary directory."""
    out = Path(os.environ.get("STREAMFN_TEST_SCREENSHOTS") or tmp_path / "pages")
    out.mkdir(parents=True, exist_ok=True)
    return out


async def test_log_in_with_a_token_then_act_with_the_session(
    settings: Settings, tmp_path: Path, procs: list[Child], client: Client
) -> None:
    token = "dashboard-test-token-0123456789"
    digest = hashlib.sha256(token.encode()).hexdigest()
    (settings.functions_dir / "echo.py").write_text(HANDLERS["echo"])
    procs.append(start_runner(settings, tmp_path))
    gateway = await start_gateway(
        settings,
        tmp_path,
        STREAMFN_AUTH="tokens",
        STREAMFN_TOKENS=f'ops = {{ role = "operator", sha256 = "{digest}" }}',
    )
    procs.append(gateway)
    async with browser() as b:
        page = await b.new_page()
        await open_page(page, f"{gateway.url}/ui#/functions/echo")
        await page.fill("#login-token", "wrong-token")
        await page.click("#login-form button[type=submit]")
        await expect(page.locator("#login-form .error")).to_be_visible(timeout=TIMEOUT_MS)
        await page.fill("#login-token", token)
        await page.click("#login-form button[type=submit]")
        await expect(page.locator("#run-form")).to_be_visible(timeout=TIMEOUT_MS)
        cookies = await page.context.cookies()
        (session,) = [c for c in cookies if c["name"] == "streamfn_session"]
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        await page.fill("#run-payload", '{"signed": "in"}')
        await page.click("#run-form button[type=submit]")  # a POST with the CSRF token
        result = page.locator("#run-result")
        await expect(result).to_contain_text("succeeded", timeout=TIMEOUT_MS)
        invocation_id = await result.locator("a").inner_text()
    inv = await client.get(invocation_id)
    assert inv is not None and inv.result == {"signed": "in"}


async def test_pause_and_resume_a_function_from_the_page(
    stack: Child, redis: Redis, keys: Keys
) -> None:
    async with browser() as b:
        page = await b.new_page()
        await open_page(page, f"{stack.url}/ui#/functions/echo")
        await page.click("#pause")
        await expect(page.locator("main h1 .badge")).to_have_text("paused", timeout=TIMEOUT_MS)
        assert await redis.hexists(keys.paused, "echo") == 1  # in Redis
        await page.click("#resume")
        await expect(page.locator("main h1 .badge")).to_have_text("live", timeout=TIMEOUT_MS)
        assert await redis.hexists(keys.paused, "echo") == 0
        await open_page(page, f"{stack.url}/ui#/runners")
        await expect(page.locator("#runners tbody tr")).to_have_count(1, timeout=TIMEOUT_MS)


async def test_an_invocation_page_shows_what_it_logged(
    stack: Child, client: Client, http: aiohttp.ClientSession
) -> None:
    logged = await invoke(http, stack, "chatty", "cat.png")
    await wait_until(lambda: _is(client, logged, "succeeded"), 15, what="chatty to finish")
    async with browser() as b:
        page = await b.new_page()
        await open_page(page, f"{stack.url}/ui#/invocations/{logged}")
        await expect(page.locator("#logs")).to_contain_text("resizing cat.png", timeout=TIMEOUT_MS)
        await expect(page.locator("#logs")).to_contain_text("WARNING")
        await expect(page.locator("main")).to_contain_text('"done"')
