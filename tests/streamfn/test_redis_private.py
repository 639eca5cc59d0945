"""streamfn.redis_private: the redis-py internals streamfn uses, and the versions they were
checked on.  A redis-py upgrade fails here first, saying what to do."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import redis as redis_py
from packaging.requirements import Requirement
from redis.asyncio import Redis

from streamfn import redis_private

pytestmark = pytest.mark.single_node  # the one-node path; the cluster tier skips it

ROOT = Path(__file__).resolve().parents[2]

WHAT_TO_DO = (
    "run tests/streamfn/test_resp.py, tests/streamfn/test_cluster_durable.py, tests/lua and "
    "this module on it; if they pass, add the version to streamfn.redis_private.CHECKED_ON and "
    "widen the redis pin in pyproject.toml, else fix buffered_reader (or drop it: replies then "
    "all go through read_response) or the cluster hooks"
)


def test_this_redis_py_is_one_the_hook_was_checked_on() -> None:
    version = redis_py.__version__
    assert version in redis_private.CHECKED_ON, (
        f"redis-py {version} is not in CHECKED_ON {redis_private.CHECKED_ON}: {WHAT_TO_DO}"
    )


def test_the_pin_admits_no_minor_release_the_hook_was_not_checked_on() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (pin,) = [Requirement(d) for d in deps if re.match(r"redis\b", d)]
    checked = sorted(tuple(int(p) for p in v.split(".")[:2]) for v in redis_private.CHECKED_ON)
    assert all(v in pin.specifier for v in redis_private.CHECKED_ON), (pin, WHAT_TO_DO)
    (major, top), (low_major, low) = checked[-1], checked[0]
    outside = [f"{major}.{top + 1}.0", f"{major + 1}.0.0"]
    outside += [f"{low_major}.{low - 1}.99"] if low > 0 else [f"{low_major - 1}.99.99"]
    admitted = [v for v in outside if v in pin.specifier]
    assert not admitted, f"pin {pin} admits unchecked {admitted}: {WHAT_TO_DO}"


async def test_fast_reply_path_is_found(redis: Redis) -> None:
    """If a redis-py upgrade hides the hiredis reader, this fails rather than going slow."""
    assert redis_private.HOOKED, f"redis._parsers.hiredis.NOT_ENOUGH_DATA is gone: {WHAT_TO_DO}"
    conn = await redis.connection_pool.get_connection()  # type: ignore[no-untyped-call]
    try:
        gets = redis_private.buffered_reader(conn)
        assert gets is not None, f"conn._parser._reader.gets is gone: {WHAT_TO_DO}"
        assert gets() is redis_private.NOT_ENOUGH_DATA  # nothing was asked: nothing buffered
    finally:
        await redis.connection_pool.release(conn)


def test_the_cluster_internals_durable_acknowledgement_uses_are_there() -> None:
    """streamfn.scripts.cluster_durable takes a node's connection and keeps the slot map
    through these; a redis-py that renamed one fails here, not in a failover."""
    hooks = redis_private.CLUSTER_HOOKS
    missing = [f"{cls.__name__}.{name}" for cls, name in hooks if not hasattr(cls, name)]
    assert not missing, f"redis-py {redis_py.__version__} lacks {missing}: {WHAT_TO_DO}"
