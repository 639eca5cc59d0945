"""Rotating tokens with no restart: a running gateway follows its tokens file, and an invalid
new file keeps the tokens in force (with an error in the log)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis

from streamfn.auth_plan import plan_auth
from streamfn.gateway.auth import Authenticator
from streamfn.gateway.token_watch import TokenFileWatcher
from streamfn.keys import Keys
from streamfn.settings import Settings
from streamfn.tokens import Role, hash_token, token_line
from tests.gateway.conftest import Client, make_known, serving

OLD, NEW = "sfn_rotate_old", "sfn_rotate_new"


def write(path: Path, text: str) -> None:
    """Replace ``path`` as an operator (or a Kubernetes Secret) does: a new file renamed over."""
    staged = path.with_suffix(".tmp")
    staged.write_text(text)
    os.replace(staged, path)


def line(name: str, secret: str, role: Role = Role.OPERATOR) -> str:
    return token_line(name, role, hash_token(secret)) + "\n"


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within the deadline"
        await asyncio.sleep(0.05)


async def status(client: Client, secret: str) -> int:
    response = await client.get("/functions", headers={"Authorization": f"Bearer {secret}"})
    return response.status


async def test_a_running_gateway_follows_its_tokens_file(
    settings: Settings, redis: Redis, keys: Keys, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await make_known(redis, keys, "echo")
    path = tmp_path / "tokens.toml"
    write(path, line("ci", OLD))
    async with serving(replace(settings, tokens_file=str(path))) as client:
        assert (await status(client, OLD), await status(client, NEW)) == (200, 401)

        write(path, line("ci", NEW))  # rotated: the old token stops working
        await eventually(lambda: _is(client, NEW, 200))
        assert await status(client, OLD) == 401

        with caplog.at_level(logging.ERROR, logger="streamfn.gateway"):
            write(path, 'ci = { role = "operator" }\n')  # no sha256: invalid
            await eventually(lambda: _logged(caplog, "not reloaded"))
        assert await status(client, NEW) == 200  # the previous tokens stay
        assert "sha256 is required" in caplog.text

        write(path, line("ci", NEW) + line("viewer", OLD, Role.VIEWER))
        await eventually(lambda: _is(client, OLD, 200))
        forbidden = await client.delete(
            "/functions/echo", headers={"Authorization": f"Bearer {OLD}"}
        )
        assert forbidden.status == 403  # the new line's role holds


async def _is(client: Client, secret: str, expected: int) -> bool:
    return await status(client, secret) == expected


async def _logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return text in caplog.text


def test_a_change_is_seen_once_and_a_vanished_file_keeps_the_tokens(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "tokens.toml"
    path.write_text(line("a", OLD))
    auth = Authenticator(plan_auth(replace(settings, tokens_file=str(path))))
    watcher = TokenFileWatcher(auth, path)
    assert not watcher.check()  # read once more at the first look: the same tokens
    path.write_text(line("b", NEW))  # same size, another mtime or content
    os.utime(path, ns=(1, 1))
    assert watcher.check()
    assert auth.tokens.find(NEW) is not None and auth.tokens.find(OLD) is None
    assert not watcher.check()
    path.unlink()
    assert not watcher.check()
    assert auth.tokens.find(NEW) is not None


def test_environment_tokens_stay_beside_the_file(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "tokens.toml"
    path.write_text(line("file", OLD))
    fixed = token_line("env", Role.ADMIN, hash_token("sfn_env"))
    auth = Authenticator(plan_auth(replace(settings, tokens_file=str(path), tokens=fixed)))
    watcher = TokenFileWatcher(auth, path)
    write(path, line("file", NEW))
    assert watcher.check()
    assert {t.name for t in auth.tokens.tokens} == {"env", "file"}
    write(path, line("env", OLD))  # a name the environment has: invalid, nothing changes
    assert not watcher.check()
    assert auth.tokens.find(NEW) is not None
