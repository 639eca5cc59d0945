"""``streamfn invoke``: enqueue one invocation straight into Redis and optionally wait for it.

No HTTP: it uses :class:`streamfn.client.Client`, so it works without a gateway running.
The arguments are parsed by the root parser (:mod:`streamfn.cli`); :func:`run` checks them.
Exit codes: 0 succeeded / queued / scheduled / running, 1 failed / dead / cancelled,
3 the wait timed out, Redis could not be reached or its replicas did not confirm the enqueue
(``STREAMFN_DURABLE_REPLICAS``), 75 refused by the backlog cap
(``STREAMFN_MAX_BACKLOG``; nothing was written, retry later).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

import orjson
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from streamfn import codec
from streamfn.cli import edge
from streamfn.cli.edge import UsageError
from streamfn.client import Client
from streamfn.connection import make_redis
from streamfn.errors import BacklogFull, ReplicationUnconfirmed
from streamfn.names import is_function_name
from streamfn.rdb import Enqueued
from streamfn.record import Invocation
from streamfn.redis_url import redact
from streamfn.scripts import Reply
from streamfn.settings import Settings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNAVAILABLE = 3  # also: the wait timed out
EXIT_BACKLOG_FULL = 75  # sysexits.h EX_TEMPFAIL: a temporary refusal, worth retrying later
UNSUCCESSFUL = frozenset({Reply.FAILED, Reply.DEAD, Reply.CANCELLED})


def run(args: argparse.Namespace) -> int:
    """``streamfn invoke FN [JSON] [--wait S] [--delay S]``: check, read settings, invoke."""
    if not is_function_name(args.function):
        raise UsageError(
            f"invalid function name {args.function!r}: use lower-case letters, digits and '_', "
            "starting with a letter, at most 64 characters"
        )
    payload = _parse_payload(args.payload)
    settings = Settings.from_env()
    return edge.run(invoke(settings, args.function, payload, wait=args.wait, delay=args.delay))


def _parse_payload(raw: str) -> Any:
    text = sys.stdin.read() if raw == "-" else raw
    try:
        return codec.loads(text)
    except codec.JSONDecodeError as exc:
        raise UsageError(f"invalid JSON payload ({exc}): quote it, e.g. '{{\"a\": 1}}'") from None


async def invoke(
    settings: Settings,
    function: str,
    payload: Any,
    *,
    wait: float | None = None,
    delay: float = 0.0,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Enqueue ``function(payload)``, print the invocation as JSON, return the exit code.

    ``function`` must already be a valid name and ``payload`` a parsed JSON value.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    redis = make_redis(settings, max_connections=4)
    client = Client(redis, settings)
    try:
        await client.refresh_partitions()  # a partitioned function's queues take turns
        enqueued = await client.enqueue(function, payload, delay=delay, notify=wait is not None)
        if wait is None:
            inv = await client.get(enqueued.id)
            timed_out = False
        else:
            await client.start()
            inv = await client.wait(enqueued.id, wait)
            timed_out = inv is not None and not inv.final
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        print(
            f"streamfn: cannot reach Redis at {redact(settings.redis_url)} ({exc}): "
            "start Redis or set STREAMFN_REDIS_URL",
            file=err,
        )
        return EXIT_UNAVAILABLE
    except BacklogFull as exc:
        print(f"streamfn: {exc.message}", file=err)
        return EXIT_BACKLOG_FULL
    except ReplicationUnconfirmed as exc:
        print(f"streamfn: {exc.message}", file=err)
        return EXIT_UNAVAILABLE
    finally:
        await client.close()
        await redis.aclose()
    out.write(_render(enqueued, inv))
    out.flush()
    if timed_out:
        print(f"streamfn: still {inv.status if inv else 'unknown'} after {wait:g} s", file=err)
        return EXIT_UNAVAILABLE
    if inv is not None and inv.status in UNSUCCESSFUL:
        return EXIT_FAILED
    return EXIT_OK


def _render(enqueued: Enqueued, inv: Invocation | None) -> str:
    # The record can be gone already (a result TTL shorter than the wait): show what we know.
    body = inv.to_json() if inv is not None else {"id": enqueued.id, "status": enqueued.status}
    return orjson.dumps(body, option=orjson.OPT_INDENT_2).decode() + "\n"
