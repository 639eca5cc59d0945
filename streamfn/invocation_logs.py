"""Per-invocation logs in Redis: one hash per invocation, a field per attempt.

``{tag}:<fn>:logs:<id>`` (:meth:`streamfn.keys.Keys.logs`) maps an attempt number to the JSON
of that attempt's lines (:meth:`streamfn.log_lines.LogLines.wire`).  The runner writes it with
the attempt's outcome, as plain commands in the completer's batch (``HSET`` and ``PEXPIRE``,
ahead of the outcome scripts, so a finished record's logs are already there); an invocation
that logged nothing costs nothing.  A re-delivered attempt (its runner died) overwrites its
own field, which keeps the hash bounded.

Bound: ``STREAMFN_LOG_MAX_BYTES`` per invocation, shared by its attempts.  An attempt that
will be retried keeps ``max_bytes // MAX_ATTEMPTS``; the last one keeps what the earlier ones
could not have used, so a first-try success keeps all of it.  Each keeps its *last* lines.

TTL: the record's.  A final attempt's key gets the TTL its record gets (``STREAMFN_DEAD_TTL``
when dead-lettered, else ``STREAMFN_RESULT_TTL``); a retried attempt's, the longer of the two
the record may end with (the record has no TTL while it waits), renewed by later attempts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import RedisCluster

from streamfn import codec, resp
from streamfn.connection import AnyRedis
from streamfn.keys import Keys
from streamfn.log_lines import LogLines
from streamfn.settings import Settings

RESULT, DEAD, LONGEST = 0, 1, 2
"""Which TTL a sealed attempt's key takes (see the module docstring)."""


@dataclass(frozen=True, slots=True)
class Sealed:
    """One attempt's lines, cut to its share and encoded, waiting to be written."""

    attempt: int
    blob: bytes
    ttl: int  # RESULT, DEAD or LONGEST


def budget(max_bytes: int, attempt: int, max_attempts: int, final: bool) -> int:
    """Bytes attempt ``attempt`` may keep (see the module docstring)."""
    share = max_bytes // max(max_attempts, 1)
    if not final:
        return share
    return max(share, max_bytes - share * (min(attempt, max_attempts) - 1))


def seal(
    lines: LogLines, max_attempts: int, *, final: bool, dead_letter: bool, dead: bool
) -> Sealed:
    """Cut ``lines`` to the attempt's budget and encode them, with the TTL they take.

    ``dead``: this attempt dead-letters the invocation (a final failure when ``dead_letter``).
    """
    lines.trim(budget(lines.max_bytes, lines.attempt, max_attempts, final))
    if final:
        ttl = DEAD if dead and dead_letter else RESULT
    else:
        ttl = LONGEST if dead_letter else RESULT
    return Sealed(lines.attempt, codec.dumps(lines.wire()), ttl)


def ttl_ms(settings: Settings, kind: int) -> int:
    result, dead = int(settings.result_ttl * 1000), int(settings.dead_ttl * 1000)
    if kind == RESULT:
        return result
    return dead if kind == DEAD else max(result, dead)


def commands(
    keys: Keys, settings: Settings, items: Sequence[tuple[str, str, Sealed]]
) -> list[tuple[Any, ...]]:
    """HSET and PEXPIRE for each (queue, invocation id, sealed attempt)."""
    out: list[tuple[Any, ...]] = []
    for queue, invocation_id, sealed in items:
        key = keys.logs(queue, invocation_id)
        out.append(("HSET", key, sealed.attempt, sealed.blob))
        out.append(("PEXPIRE", key, ttl_ms(settings, sealed.ttl)))
    return out


async def send(redis: AnyRedis, cmds: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Plain commands in one round trip (per node on a cluster); refusals come back in place,
    a connection error raises."""
    if not cmds:
        return []
    if isinstance(redis, RedisCluster):
        pipe = redis.pipeline(transaction=False)
        for cmd in cmds:
            pipe.execute_command(*cmd)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        return replies
    payload = b"".join(resp.encode(cmd) for cmd in cmds)
    return await resp.execute(redis, payload, len(cmds))


def lines_of(fields: dict[Any, Any], attempt: int | None = None) -> list[dict[str, Any]]:
    """The stored attempts as lines, oldest attempt first, each attempt's dropped-lines marker
    ahead of its lines; only attempt ``attempt`` when given."""
    out: list[dict[str, Any]] = []
    for number, raw in sorted((int(codec.text(name)), raw) for name, raw in fields.items()):
        if attempt is not None and number != attempt:
            continue
        stored = codec.loads(raw)
        lines = stored.get("lines", [])
        if stored.get("dropped_lines"):
            first_ts = lines[0][0] if lines else 0
            out.append(_line(number, first_ts, "WARNING", "log", marker(stored)))
        out.extend(_line(number, *line) for line in lines)
    return out


def marker(stored: dict[str, Any]) -> str:
    """The line that stands for the lines an attempt dropped."""
    return (
        f"[{stored['dropped_lines']} earlier lines ({stored['dropped_bytes']} bytes) dropped: "
        "over STREAMFN_LOG_MAX_BYTES; the last lines are kept]"
    )


def _line(attempt: int, ts: int, level: str, stream: str, message: str) -> dict[str, Any]:
    return {"attempt": attempt, "ts": ts, "level": level, "stream": stream, "message": message}


async def read(
    redis: AnyRedis, keys: Keys, queue: str, invocation_id: str
) -> tuple[bool, dict[Any, Any]]:
    """(the invocation's record exists?, its stored attempts) in one round trip."""
    record, logs = keys.invocation(queue, invocation_id), keys.logs(queue, invocation_id)
    exists, fields = await send(redis, [("EXISTS", record), ("HGETALL", logs)])
    if isinstance(fields, list):  # RESP2 through the raw path: a flat list of pairs
        fields = {fields[i]: fields[i + 1] for i in range(0, len(fields), 2)}
    return bool(exists) or bool(fields), fields


__all__ = ["Sealed", "budget", "commands", "lines_of", "read", "seal", "send"]
