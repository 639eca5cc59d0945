"""Launching the processes streamfn runs on one machine: a private redis-server and a stack
of gateways, runners and schedulers, each a child we stop by its own pid.

``streamfn dev``, the bench and the tests all start their processes through this package, so
there is one way to pick a free port, wait for readiness, keep a child's output and stop it.
It imports neither the gateway nor the runner: it starts them as ``python -m streamfn ...``.
"""

from streamfn.launch.children import Child, describe_exit, python_module, stop_all
from streamfn.launch.ports import free_port, reachable
from streamfn.launch.probes import Served, healthy, served
from streamfn.launch.ready import ChildExited, NotReady, await_ready, wait_ready
from streamfn.launch.redis_server import Persistence, PrivateRedis, RedisUnavailable, ping
from streamfn.launch.stack import Stack, spawn_gateway, spawn_runner, spawn_scheduler

__all__ = [
    "Child",
    "ChildExited",
    "NotReady",
    "Persistence",
    "PrivateRedis",
    "RedisUnavailable",
    "Served",
    "Stack",
    "await_ready",
    "describe_exit",
    "free_port",
    "healthy",
    "ping",
    "python_module",
    "reachable",
    "served",
    "spawn_gateway",
    "spawn_runner",
    "spawn_scheduler",
    "stop_all",
    "wait_ready",
]
