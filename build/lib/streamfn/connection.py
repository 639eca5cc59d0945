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
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeAlias

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.connection import Connection, SSLConnection
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool, SentinelManagedConnection
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ReadOnlyError

from streamfn.redis_url import SentinelUrl, is_sentinel_url, parse_sentinel_url
from streamfn.settings import Settings, SettingsError
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
    ``STREAMFN_DURABLE_TIMEOUT_MS``, which is added to the socket timeout.
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
        if settings.durable_replicas:
            raise SettingsError(
                "STREAMFN_DURABLE_REPLICAS is not supported on a Redis Cluster yet: a batch's "
                "WAIT must follow its writes on each node's connection; set it to 0"
            )
        del options["retry_on_error"]  # the cluster client retries by its own rules
        if pool_timeout is not None:
            return GatedCluster.from_url(url, gate=max_connections, **options)
        return RedisCluster.from_url(url, **options)
    if is_sentinel_url(url):
        return _master_client(parse_sentinel_url(url), options, pool_timeout)
    if pool_timeout is None:
        return Redis.from_url(url, **options)
    pool = BlockingConnectionPool.from_url(url, timeout=pool_timeout, **options)
    return Redis.from_pool(pool)


class GatedCluster(RedisCluster):
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
