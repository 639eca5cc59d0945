"""Redis clients built from settings, with timeouts so a dead server fails fast (503).

``STREAMFN_REDIS_URL`` names one server (``redis://``, ``rediss://``, ``unix://``) or a master
found through Sentinel (``redis+sentinel://``, :mod:`streamfn.sentinel_url`).  A Sentinel
client is redis-py's ``Sentinel.master_for``: each new connection asks the Sentinels where the
master is, a pool that learns of a new master drops its idle connections to the old one, and
a connection that gets ``READONLY`` (it still talks to a demoted master) disconnects and
raises :class:`MasterDemoted`.  Nothing ran on that connection, so unlike other connection
errors this one is retried at once by redis-py's own retry, which reconnects through the
Sentinels.  The pipelined fast path (:mod:`streamfn.resp`) never retries: its caller gets the
error (the gateway answers 503) and the connection is gone from the pool.

A Redis Cluster client (:class:`ClusterClient`) is redis-py's, with two changes for failover.
It retries a command only after ``CLUSTERDOWN`` or an uncovered slot, where nothing ran:
redis-py also retries after a connection error or timeout, which may come after a script ran
(an enqueue sent twice answers "invocation exists").  And when a command's ``CLUSTERDOWN``
(every node answers it between a master's failure and its replica's promotion) makes redis-py
reset the client, the reset no longer disconnects the connections other commands are using,
on every node: it refreshes the slot map at the next command and closes only idle
connections, as redis-py does after a connection error.  Those commands had run, or would
have, on healthy masters; cut off, they came back as errors (an enqueue that ran answered
503) or, caught mid-connect, as ``AttributeError``/``RuntimeError`` (a 500).  A connection
closed under a command anyway raises a ``ConnectionError`` (nothing was sent).
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import Any, TypeAlias

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.connection import Connection, SSLConnection
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool, SentinelManagedConnection
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ClusterDownError, ReadOnlyError, SlotNotCoveredError
from redis.exceptions import ConnectionError as RedisConnectionError

from streamfn.redis_url import SentinelUrl, is_sentinel_url, parse_sentinel_url
from streamfn.settings import Settings
from streamfn.topology import is_cluster

AnyRedis: TypeAlias = Redis | RedisCluster
"""A client of one node (or a Sentinel-found master), or of a whole Redis Cluster."""

SENTINEL_TIMEOUT = 1.0
"""Seconds to connect to, or hear from, one Sentinel before asking the next."""


def make_redis(
    settings: Settings,
    *,
    max_connections: int = 64,
    socket_timeout: float = 5.0,
    pool_timeout: float | None = None,
) -> AnyRedis:
    """A pooled async client.  Bytes in, bytes out (orjson decodes payloads itself).

    With ``pool_timeout`` set, a caller finding every connection busy waits up to that many
    seconds for one (a server with many concurrent requests); without it, it fails at once.
    On a Redis Cluster (:func:`streamfn.topology.is_cluster`) it is redis-py's cluster
    client, ``max_connections`` per node.
    A ``WAIT`` for replicas (``STREAMFN_DURABLE_REPLICAS``) may hold a connection for up to
    ``STREAMFN_DURABLE_TIMEOUT_MS``, which is added to the socket timeout (on a cluster too:
    there a durable batch holds one connection per master, its calls then its WAIT).
    """
    if settings.durable_replicas:
        socket_timeout += settings.durable_timeout_ms / 1000
    options: dict[str, Any] = {
        "decode_responses": False,
        "max_connections": max_connections,
        "socket_connect_timeout": 2.0,
        "socket_timeout": socket_timeout,
        "health_check_interval": 30,
        # asyncio's Retry (the sync one cannot catch what a coroutine raises), and only for
        # errors where the command surely did not run: the scripts are not all idempotent.
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=1, supported_errors=()),
        "retry_on_error": [ConnectionResetError],
    }
    url = settings.redis_url
    if is_cluster(settings):
        del options["retry_on_error"]  # ClusterClient retries by its own rules
        if pool_timeout is not None:
            return GatedCluster.from_url(url, gate=max_connections, **options)
        return ClusterClient.from_url(url, **options)
    if is_sentinel_url(url):
        return _master_client(parse_sentinel_url(url), options, pool_timeout)
    if pool_timeout is None:
        return Redis.from_url(url, **options)
    pool = BlockingConnectionPool.from_url(url, timeout=pool_timeout, **options)
    return Redis.from_pool(pool)


class _ClusterConnection(Connection):
    async def _send_packed_command(self, command: Any) -> None:
        # The client's reset (CLUSTERDOWN, a failover) disconnects connections in use too; the
        # next write would find no writer (AttributeError) or a closed transport (uvloop's
        # RuntimeError).  Nothing was sent: say so as the connection error it is.
        writer = self._writer
        if writer is None or writer.transport.is_closing():
            raise RedisConnectionError(
                f"{self.host}:{self.port}: the connection was closed under this command "
                "(the cluster client reset its connections); nothing was sent"
            )
        await super()._send_packed_command(command)


class _ClusterSSLConnection(_ClusterConnection, SSLConnection):
    pass


_IN_COMMAND: ContextVar[bool] = ContextVar("streamfn_cluster_in_command", default=False)
"""Set while :meth:`ClusterClient.execute_command` runs: an ``aclose`` then is redis-py's
own reset after an error, not the owner closing the client."""


class ClusterClient(RedisCluster):
    """redis-py's cluster client, safe across a failover (module docstring)."""

    ERRORS_ALLOW_RETRY = (ClusterDownError, SlotNotCoveredError)  # type: ignore[assignment]
    """Retried (``retry``'s count, after a topology refresh): errors where nothing ran."""

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        token = _IN_COMMAND.set(True)
        try:
            return await super().execute_command(*args, **kwargs)
        finally:
            _IN_COMMAND.reset(token)

    async def aclose(self) -> None:
        if not _IN_COMMAND.get():
            await super().aclose()
            return
        # redis-py resetting after CLUSTERDOWN (or MOVED after MOVED) from inside a command.
        self._initialize = True  # the next command asks for the slot map again
        for node in self.get_nodes():
            node.update_active_connections_for_reconnect()  # once their command is done
            await node.disconnect_free_connections()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # redis-py fixes its connection class; every node (those found later too) is built
        # from these kwargs, the startup nodes were built already.
        tls = self.connection_kwargs.get("connection_class") is SSLConnection
        connection_class = _ClusterSSLConnection if tls else _ClusterConnection
        self.connection_kwargs["connection_class"] = connection_class
        for node in self.startup_nodes:
            node.connection_class = connection_class


class GatedCluster(ClusterClient):
    """redis-py's cluster client, with callers beyond ``gate`` commands in flight waiting.

    Its per-node pools have no wait: a caller finding every connection of a node busy gets
    ``MaxConnectionsError`` at once, where the single-node client's blocking pool waits (the
    gateway's thousand ``?wait=`` callers read their records at the same moment).  The gate
    admits ``gate`` commands at a time; each node allows twice that, for pipelines, which
    take a connection per node outside the gate.
    """

    def __init__(self, *args: Any, gate: int, **kwargs: Any) -> None:
        kwargs["max_connections"] = 2 * gate
        super().__init__(*args, **kwargs)
        self._gate = asyncio.Semaphore(gate)

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self._gate:
            return await super().execute_command(*args, **kwargs)


class MasterDemoted(RedisConnectionError):
    """The server this connection reached as the master is a replica now; nothing ran."""


class _MasterConnection(SentinelManagedConnection):
    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        # redis-py 8.1 reconnects a dropped connection here to its last address, skipping the
        # Sentinel lookup its connect() does: a retry would reach the demoted master again.
        if not self.is_connected:
            await self.connect()  # type: ignore[no-untyped-call]
        await super().send_packed_command(command, check_health)

    async def read_response(
        self,
        disable_decoding: bool = False,
        timeout: float | None = None,
        *,
        disconnect_on_error: float | None = True,  # sic: redis-py's annotation
        push_request: bool | None = False,
    ) -> Any:
        try:  # Connection's, not SentinelManagedConnection's: that raises a bare ConnectionError
            return await Connection.read_response(
                self,
                disable_decoding=disable_decoding,
                timeout=timeout,
                disconnect_on_error=bool(disconnect_on_error),
                push_request=push_request,
            )
        except ReadOnlyError:
            await self.disconnect()  # the next connect asks the Sentinels again
            raise MasterDemoted(
                f"{self.host}:{self.port} is a replica now; reconnecting to the master"
            ) from None


class _MasterSSLConnection(_MasterConnection, SSLConnection):
    pass


class _MasterPool(SentinelConnectionPool):
    """A Sentinel master pool: its connections raise :class:`MasterDemoted`, and closing the
    client also closes its Sentinel clients."""

    def __init__(self, service_name: str, sentinel_manager: Sentinel, **kwargs: Any) -> None:
        tls = kwargs.get("ssl", False)
        kwargs.setdefault("connection_class", _MasterSSLConnection if tls else _MasterConnection)
        super().__init__(service_name, sentinel_manager, **kwargs)  # type: ignore[no-untyped-call]

    async def disconnect(self, inuse_connections: bool = True) -> None:
        await super().disconnect(inuse_connections)
        if inuse_connections:  # a full close (a new master only drops the idle connections)
            await self.sentinel_manager.aclose()


class _BlockingMasterPool(_MasterPool, BlockingConnectionPool):
    """The same, waiting up to ``timeout`` s for a free connection instead of failing."""


def _master_client(target: SentinelUrl, options: dict[str, Any], timeout: float | None) -> Redis:
    sentinel_kwargs = {
        "socket_connect_timeout": SENTINEL_TIMEOUT,
        "socket_timeout": SENTINEL_TIMEOUT,
        # One try per Sentinel: discovery itself moves on to the next one.
        "retry": Retry(NoBackoff(), retries=0, supported_errors=()),
        **target.sentinel_kwargs(),
    }
    sentinel = Sentinel(list(target.sentinels), sentinel_kwargs=sentinel_kwargs)  # type: ignore[no-untyped-call]
    pool_class: type[SentinelConnectionPool] = _MasterPool
    kwargs = {**options, **target.node_kwargs()}
    kwargs["retry_on_error"] = [*options["retry_on_error"], MasterDemoted]
    if timeout is not None:
        pool_class, kwargs["timeout"] = _BlockingMasterPool, timeout
    client: Redis = sentinel.master_for(target.service, connection_pool_class=pool_class, **kwargs)
    return client
