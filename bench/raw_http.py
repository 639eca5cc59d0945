"""The bench's HTTP load generator: ``concurrency`` keep-alive connections on asyncio streams,
each sending its next request as soon as the previous answer is read (a closed loop), with
responses framed by ``Content-Length``.

Why not aiohttp's client: on this 2-core machine it spends ~230 µs of CPU per request, a large
share of the cores the gateway under test needs.  This one sends the same requests for a
fraction of that.  It understands exactly what a load test needs (status line, headers,
``Content-Length`` body) and fails loudly on anything else (e.g. a chunked response).  It runs
in the bench process, so its own CPU (``client_cpu_s``) is reported next to every figure; the
other generator is ``wrk`` (:mod:`bench.wrk`).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import orjson

from bench.cpu import self_cpu_seconds
from bench.progress import Progress


@dataclass(slots=True)
class HttpRun:
    """What ``count`` requests got back.  Times are ``time.perf_counter()`` seconds."""

    ids: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    finished: float = 0.0
    client_cpu_s: float = 0.0

    @property
    def elapsed(self) -> float:
        return self.finished - self.started

    def ok(self, *codes: int) -> int:
        return sum(self.statuses[c] for c in codes)


def id_of(raw: bytes) -> str | None:
    """The ``id`` of an invocation in a JSON response body, if there is one."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    inv = body.get("id") if isinstance(body, dict) else None
    return inv if isinstance(inv, str) else None


class ProtocolError(RuntimeError):
    """The server's answer is not something this small client can frame."""


def _request(url: str, body: bytes) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    head = (
        f"POST {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return parts.hostname or "127.0.0.1", parts.port or 80, head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value)
        elif key == b"transfer-encoding":
            raise ProtocolError(f"unsupported Transfer-Encoding {value.strip()!r}")
    if length is None:
        raise ProtocolError("response without Content-Length")
    return status, await reader.readexactly(length)


async def post_many(
    url: str,
    count: int,
    concurrency: int,
    body: bytes = b"null",
    progress: Progress | None = None,
) -> HttpRun:
    """POST ``body`` to ``url`` ``count`` times over ``concurrency`` connections."""
    run = HttpRun()
    host, port, request = _request(url, body)
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        reader, writer = await asyncio.open_connection(host, port)
        done_here = 0
        try:
            while remaining > 0:
                remaining -= 1
                t = time.perf_counter()
                try:
                    writer.write(request)
                    status, raw = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError) as exc:
                    run.errors[type(exc).__name__] += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                run.latencies_ms.append((time.perf_counter() - t) * 1000)
                run.statuses[status] += 1
                if status in (200, 202):
                    inv = id_of(raw)
                    if inv is not None:
                        run.ids.append(inv)
                done_here += 1
                if progress is not None and done_here % 100 == 0:
                    progress.update(100)
        finally:
            writer.close()

    cpu0 = self_cpu_seconds()
    run.started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, count)))))
    run.finished = time.perf_counter()
    run.client_cpu_s = self_cpu_seconds() - cpu0
    return run
