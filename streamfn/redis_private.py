"""redis-py's private API on the hot path, in one place: the hiredis reader behind a connection.

(The failover overrides in :mod:`streamfn.connection` also lean on redis-py internals: the
Sentinel master connection's reconnect, and the cluster client's reset, retry list and
connection writer.  They are pinned by the same :data:`CHECKED_ON` and exercised against real
failovers by ``tests/streamfn/test_connection.py`` and ``tests/streamfn/test_cluster_failures.py``.)

:func:`streamfn.resp.execute` reads the replies of a pipelined batch.  The first goes through
redis-py's public ``read_response`` (socket timeout, health checks, error types); the replies
behind it are usually buffered already, and reading them straight from the connection's
hiredis reader costs ~0.6 µs each against ~9 µs through ``read_response``.  redis-py has no
public way to do that, so this module reaches into ``conn._parser._reader`` and the sentinel
``redis._parsers.hiredis.NOT_ENOUGH_DATA`` that reader was built to return.

:data:`CHECKED_ON` names the redis-py versions this was verified on; ``pyproject.toml`` pins
redis-py to them, and ``tests/streamfn/test_redis_private.py`` fails on any other version or
when the hook is not found.  Without the hook :func:`buffered_reader` returns None and every
reply goes through ``read_response``: slower, same results.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio.connection import AbstractConnection

CHECKED_ON = ("8.1.0",)
"""redis-py versions on which the hook was found and the reply tests passed."""

try:
    from redis._parsers.hiredis import NOT_ENOUGH_DATA as _NOT_ENOUGH
except ImportError:  # moved or renamed: no fast path (buffered_reader returns None)
    _NOT_ENOUGH, HOOKED = object(), False
else:
    HOOKED = True

NOT_ENOUGH_DATA: object = _NOT_ENOUGH
"""What a reader from :func:`buffered_reader` returns when no whole reply is buffered."""


def buffered_reader(conn: AbstractConnection) -> Callable[[], Any] | None:
    """The connection's hiredis ``gets`` (a reply, or :data:`NOT_ENOUGH_DATA`), if it has one."""
    if not HOOKED:
        return None
    reader = getattr(getattr(conn, "_parser", None), "_reader", None)
    gets = getattr(reader, "gets", None)
    return gets if callable(gets) else None
