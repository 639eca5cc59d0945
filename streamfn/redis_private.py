"""redis-py's private API, in one place: the hiredis reader behind a connection, and the
cluster client's per-node connections and slot map (durable acknowledgement on a cluster).

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

On a cluster, durable acknowledgement (:mod:`streamfn.scripts.cluster_durable`) needs one
connection per master that carries that master's writes and then its ``WAIT``.  redis-py's
cluster client hands out no such connection, so :func:`node_connection` takes one from a
``ClusterNode``'s own pool (``acquire_connection``, ``disconnect_if_needed``, ``release``: what
``ClusterNode.execute_command`` does around one command), and after a reply or an error the
slot map is kept as redis-py keeps it: :func:`slot_moved` (``NodesManager.move_slot``, as after a
``MOVED``), :func:`node_failed` (as after a connection error: mark the node's connections,
move it last among the nodes asked for the map, refresh the map at the next command) and
:func:`refresh_slots` (the ``_initialize`` flag its own ``CLUSTERDOWN`` handling sets).  These
are methods without a leading underscore but are undocumented, and ``_initialize`` is private;
:data:`CLUSTER_HOOKS` lists them and ``tests/streamfn/test_redis_private.py`` checks that they
are all there on the pinned version.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio.cluster import ClusterNode, NodesManager, RedisCluster
from redis.asyncio.connection import AbstractConnection, Connection
from redis.exceptions import AskError

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


CLUSTER_HOOKS: tuple[tuple[type, str], ...] = (
    (ClusterNode, "acquire_connection"),
    (ClusterNode, "disconnect_if_needed"),
    (ClusterNode, "release"),
    (ClusterNode, "update_active_connections_for_reconnect"),
    (ClusterNode, "disconnect_free_connections"),
    (NodesManager, "move_slot"),
    (NodesManager, "move_node_to_end_of_cached_nodes"),
    (RedisCluster, "_initialize"),
)
"""The cluster internals the functions below use: (class, attribute)."""


@asynccontextmanager
async def node_connection(node: ClusterNode) -> AsyncIterator[Connection]:
    """One connection of ``node``'s pool, for the caller alone until the block ends.

    Raises ``MaxConnectionsError`` (a ConnectionError) when all of the node's are in use.  A
    connection the caller disconnected goes back to the pool and reconnects when next used.
    """
    conn = node.acquire_connection()
    try:
        await node.disconnect_if_needed(conn)  # marked by a reset while it was idle
        yield conn
    finally:
        node.release(conn)


async def slot_moved(cluster: RedisCluster, error: AskError) -> None:
    """Patch the slot map after a ``MOVED`` (the slot's new master, from the reply)."""
    await cluster.nodes_manager.move_slot(error)


async def node_failed(cluster: RedisCluster, node: ClusterNode) -> None:
    """After a connection error or timeout on ``node``: drop its idle connections, mark the
    busy ones to reconnect when released, ask it last for the slot map, which the client
    refreshes before its next command (a failover may have moved its slots)."""
    node.update_active_connections_for_reconnect()
    await node.disconnect_free_connections()
    cluster.nodes_manager.move_node_to_end_of_cached_nodes(node.name)
    refresh_slots(cluster)


def refresh_slots(cluster: RedisCluster) -> None:
    """Have the client ask for the slot map again before its next command (``initialize``)."""
    cluster._initialize = True
