"""Settings: every ``STREAMFN_*`` environment variable, read once into a frozen object.

Only the process edge (the CLI and the ``__main__`` modules) calls :meth:`Settings.from_env`;
everything else receives a ``Settings`` as an argument.  A bad value raises
:class:`SettingsError` naming the variable and what it accepts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from streamfn import setting_values as accept
from streamfn.keys import DEFAULT_SHARDS
from streamfn.redis_url import redact


class SettingsError(ValueError):
    """A ``STREAMFN_*`` variable holds a value we cannot use."""


def _meta(env: str, parse: Callable[[str], Any], doc: str) -> dict[str, Any]:
    return {"env": env, "parse": parse, "doc": doc}


@dataclass(frozen=True, slots=True)
class Settings:
    """All tunables of gateway, runner and CLI.  Defaults suit a laptop; see the README table."""

    redis_url: str = field(metadata=_meta("STREAMFN_REDIS_URL", accept.redis_url, "Redis to use"))
    namespace: str = field(
        metadata=_meta("STREAMFN_NAMESPACE", accept.namespace, "prefix of every Redis key")
    )
    redis_cluster: str = field(
        metadata=_meta(
            "STREAMFN_REDIS_CLUSTER",
            accept.cluster_mode,
            "auto (ask the server with INFO cluster), on or off: talk to a Redis Cluster",
        )
    )
    shards: int = field(
        metadata=_meta(
            "STREAMFN_SHARDS",
            accept.shards,
            "hash-tag shards of a namespace (power of two); the same for every process",
        )
    )
    functions_dir: Path = field(
        metadata=_meta("STREAMFN_FUNCTIONS_DIR", Path, "where runners find handlers")
    )
    host: str = field(metadata=_meta("STREAMFN_HOST", str, "gateway bind address"))
    port: int = field(metadata=_meta("STREAMFN_PORT", accept.port, "gateway port"))
    auth: str = field(
        metadata=_meta(
            "STREAMFN_AUTH",
            accept.auth_mode,
            "auto (tokens when configured; none on a loopback bind; else refuse to start), "
            "tokens (always required) or open (no auth; a warning off loopback): docs/auth.md",
        )
    )
    tokens_file: str = field(
        metadata=_meta(
            "STREAMFN_TOKENS_FILE",
            str,
            "TOML file of the gateway's tokens (hashed), re-read when it changes: docs/auth.md",
        )
    )
    tokens: str = field(
        metadata=_meta(
            "STREAMFN_TOKENS",
            accept.token_lines,
            "tokens in the file's line format, ';'-separated (fixed until restart)",
        )
    )
    metrics_auth: bool = field(
        metadata=_meta(
            "STREAMFN_METRICS_AUTH",
            accept.boolean,
            "the gateway's /metrics needs a viewer token when auth is on (else it is open)",
        )
    )
    visibility_timeout: float = field(
        metadata=_meta(
            "STREAMFN_VISIBILITY_TIMEOUT",
            accept.positive_float,
            "seconds before a silent runner's work is reclaimed",
        )
    )
    claim_interval: float = field(
        metadata=_meta(
            "STREAMFN_CLAIM_INTERVAL", accept.positive_float, "seconds between reclaim sweeps"
        )
    )
    consumer_idle_limit: float = field(
        metadata=_meta(
            "STREAMFN_CONSUMER_IDLE_LIMIT",
            accept.positive_float,
            "seconds a consumer holding no work may stay idle before it is deleted",
        )
    )
    result_ttl: float = field(
        metadata=_meta(
            "STREAMFN_RESULT_TTL", accept.positive_float, "seconds a finished invocation is kept"
        )
    )
    dead_ttl: float = field(
        metadata=_meta(
            "STREAMFN_DEAD_TTL", accept.positive_float, "seconds a dead invocation is kept"
        )
    )
    dead_maxlen: int = field(
        metadata=_meta(
            "STREAMFN_DEAD_MAXLEN",
            accept.positive_int,
            "approximate cap of each dead-letter stream",
        )
    )
    idempotency_ttl: float = field(
        metadata=_meta(
            "STREAMFN_IDEMPOTENCY_TTL",
            accept.positive_float,
            "seconds an Idempotency-Key is remembered",
        )
    )
    deployed_retention: float = field(
        metadata=_meta(
            "STREAMFN_DEPLOYED_RETENTION",
            accept.non_negative_float,
            "seconds a function stays deployed (accepting invocations) after its last runner went; "
            "0: until it is removed",
        )
    )
    max_body: int = field(
        metadata=_meta("STREAMFN_MAX_BODY", accept.positive_int, "largest request body in bytes")
    )
    max_result: int = field(
        metadata=_meta(
            "STREAMFN_MAX_RESULT",
            accept.positive_int,
            "largest handler result in bytes of JSON; a larger one fails the attempt for good",
        )
    )
    log_max_bytes: int = field(
        metadata=_meta(
            "STREAMFN_LOG_MAX_BYTES",
            accept.non_negative_int,
            "log bytes kept per invocation (ctx.log and isolated handlers' output), its last "
            "lines; 0: keep none",
        )
    )
    max_wait: float = field(
        metadata=_meta("STREAMFN_MAX_WAIT", accept.positive_float, "largest ?wait= in seconds")
    )
    max_backlog: int = field(
        metadata=_meta(
            "STREAMFN_MAX_BACKLOG",
            accept.non_negative_int,
            "queued + running invocations per function before new ones get 429 (0: no cap)",
        )
    )
    durable_replicas: int = field(
        metadata=_meta(
            "STREAMFN_DURABLE_REPLICAS",
            accept.non_negative_int,
            "replicas that must confirm each enqueue before it is acknowledged (0: off; on a "
            "cluster, replicas of the enqueue's master)",
        )
    )
    durable_timeout_ms: int = field(
        metadata=_meta(
            "STREAMFN_DURABLE_TIMEOUT_MS",
            accept.wait_timeout_ms,
            "milliseconds to wait for those replicas before answering 503",
        )
    )
    concurrency: int = field(
        metadata=_meta(
            "STREAMFN_CONCURRENCY", accept.positive_int, "invocations a runner runs at once"
        )
    )
    max_deliveries: int = field(
        metadata=_meta(
            "STREAMFN_MAX_DELIVERIES",
            accept.positive_int,
            "deliveries of one attempt before it is dead-lettered as poison",
        )
    )
    shutdown_grace: float = field(
        metadata=_meta(
            "STREAMFN_SHUTDOWN_GRACE",
            accept.positive_float,
            "seconds in-flight work may finish after SIGTERM",
        )
    )
    promote_interval: float = field(
        metadata=_meta(
            "STREAMFN_PROMOTE_INTERVAL",
            accept.positive_float,
            "longest sleep of a timekeeper between reads of the due-time indexes, seconds (a "
            "due time that moves earlier wakes it at once)",
        )
    )
    default_timeout: float = field(
        metadata=_meta(
            "STREAMFN_DEFAULT_TIMEOUT",
            accept.positive_float,
            "handler timeout when a function sets no TIMEOUT",
        )
    )
    default_retries: int = field(
        metadata=_meta(
            "STREAMFN_DEFAULT_RETRIES",
            accept.non_negative_int,
            "retries when a function sets no RETRIES",
        )
    )
    isolate_sync: bool = field(
        metadata=_meta(
            "STREAMFN_ISOLATE_SYNC",
            accept.boolean,
            "run plain def handlers in child processes that timeouts can kill",
        )
    )
    runner_metrics_port: int = field(
        metadata=_meta(
            "STREAMFN_RUNNER_METRICS_PORT",
            accept.port,
            "runner's /metrics, /healthz and /readyz port (0: off)",
        )
    )
    log_level: str = field(
        metadata=_meta("STREAMFN_LOG_LEVEL", accept.log_level, "DEBUG, INFO, WARNING or ERROR")
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every ``STREAMFN_*`` variable; unknown ``STREAMFN_`` names are an error too."""
        env = os.environ if environ is None else environ
        known = {f.metadata["env"] for f in fields(cls)}
        typos = sorted(k for k in env if k.startswith("STREAMFN_") and k not in known | _IGNORED)
        if typos:
            raise SettingsError(
                f"unknown setting {', '.join(typos)}; known settings: {', '.join(sorted(known))}"
            )
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f.metadata["env"]
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            try:
                values[f.name] = f.metadata["parse"](raw.strip())
            except ValueError as exc:
                shown = redact(raw) if f.name == "redis_url" else raw  # never echo a password
                raise SettingsError(f"{name}={shown!r}: {exc}") from None
        return replace(DEFAULTS, **values)

    @property
    def heartbeat_interval(self) -> float:
        """Runners extend their leases this often: a third of the visibility timeout."""
        return self.visibility_timeout / 3

    @classmethod
    def table(cls) -> list[tuple[str, str, str]]:
        """(variable, default, meaning) rows, for the README and ``streamfn settings``."""
        return [
            (f.metadata["env"], str(getattr(DEFAULTS, f.name)), f.metadata["doc"])
            for f in fields(cls)
        ]


# Variables our own tooling uses that are not runtime settings.
_IGNORED = frozenset(
    {"STREAMFN_TEST_REDIS_URL", "STREAMFN_TEST_CLUSTER", "STREAMFN_BENCH_REDIS_URL"}
)

DEFAULTS = Settings(
    redis_url="redis://127.0.0.1:6379/0",
    namespace="streamfn",
    redis_cluster="auto",
    shards=DEFAULT_SHARDS,
    functions_dir=Path("./functions"),
    host="127.0.0.1",
    port=8080,
    auth="auto",
    tokens_file="",
    tokens="",
    metrics_auth=False,
    visibility_timeout=30.0,
    claim_interval=0.5,
    consumer_idle_limit=300.0,
    result_ttl=86400.0,
    dead_ttl=7 * 86400.0,
    dead_maxlen=10000,
    idempotency_ttl=86400.0,
    deployed_retention=7 * 86400.0,
    max_body=1024 * 1024,
    max_result=1024 * 1024,
    log_max_bytes=64 * 1024,
    max_wait=300.0,
    max_backlog=0,
    durable_replicas=0,
    durable_timeout_ms=1000,
    concurrency=100,
    max_deliveries=5,
    shutdown_grace=10.0,
    promote_interval=1.0,
    default_timeout=60.0,
    default_retries=3,
    isolate_sync=True,
    runner_metrics_port=9091,
    log_level="INFO",
)
