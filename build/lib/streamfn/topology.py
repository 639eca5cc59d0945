"""Which kind of Redis a URL names: one node or a Redis Cluster.

``STREAMFN_REDIS_CLUSTER=auto`` asks the node the URL names (``INFO cluster``) once per
process and URL, at the process edge where the first client is built; ``on`` and ``off``
skip the question.  A node that does not answer counts as a single node, and a warning says
how to force the mode, since a process started while Redis is down would otherwise pick one
silently.
"""

from __future__ import annotations

import functools
import logging

import redis
from redis.exceptions import RedisError

from streamfn.settings import Settings

log = logging.getLogger("streamfn.topology")

PROBE_TIMEOUT = 2.0


def is_cluster(settings: Settings) -> bool:
    """True when ``settings`` name a Redis Cluster (forced, or answered by the node)."""
    if settings.redis_cluster != "auto":
        return settings.redis_cluster == "on"
    return _probe(settings.redis_url)


@functools.cache
def _probe(url: str) -> bool:
    if not url.startswith(("redis://", "rediss://")):
        return False  # a unix socket or a Sentinel service names one master
    try:
        with redis.Redis.from_url(
            url, socket_connect_timeout=PROBE_TIMEOUT, socket_timeout=PROBE_TIMEOUT
        ) as client:
            info = client.info("cluster")
    except (RedisError, OSError) as exc:
        log.warning(
            "could not ask %s whether it is a cluster (%s); assuming one node: "
            "set STREAMFN_REDIS_CLUSTER=on or off to decide without asking",
            _host_of(url),
            exc,
        )
        return False
    return bool(info.get("cluster_enabled"))


def _host_of(url: str) -> str:
    return url.rsplit("@", 1)[-1]
