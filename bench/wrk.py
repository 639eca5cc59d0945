"""``wrk`` as the HTTP load generator: run it for a fixed duration and parse what it prints.

Why: the Python load generators (:mod:`bench.raw_http`) spend ~50 µs of CPU per request in the
bench process, on the same 2 cores as the gateway, so their accepted/s partly measures the
client.  ``wrk`` (C, one thread, epoll) spends a fraction of that, and issue 3's HTTP ceilings
were taken with it (``wrk -t1 -c50``).

One call runs ``wrk -t1 -c<connections> -d<seconds> --latency -s <script>``, where the script (a
temp file, removed afterwards) turns every request into a ``POST`` of the body with
``Content-Type: application/json``.  The text ``wrk`` 4.1 prints is parsed by :func:`parse`.
"""

from __future__ import annotations

import asyncio
import re
import resource
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from bench.failure import BenchError

MISSING = (
    "wrk is not installed: its phase was skipped "
    "(apt-get install wrk, or `make bench`, which installs it)"
)
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_TIME = r"([\d.]+)(us|ms|s|m|h)"


class WrkError(BenchError):
    """``wrk`` failed, timed out, or printed something :func:`parse` cannot read."""


@dataclass(frozen=True, slots=True)
class WrkResult:
    """One ``wrk`` run.  ``non2xx`` is wrk's "Non-2xx or 3xx responses" (status ≥ 400)."""

    requests: int  # responses read (wrk's "N requests in T")
    duration_s: float  # T, as wrk measured it
    requests_per_s: float  # wrk's "Requests/sec"
    non2xx: int
    socket_errors: dict[str, int]  # connect, read, write, timeout
    p50_ms: float
    p99_ms: float
    client_cpu_s: float = 0.0  # wrk's own user + system CPU (0 when parsed from text)

    @property
    def ok(self) -> int:
        """Responses with a status below 400."""
        return self.requests - self.non2xx

    @property
    def ok_per_s(self) -> float:
        """Responses below 400 per second (wrk's rate, which has more digits than its time)."""
        return self.requests_per_s * self.ok / self.requests if self.requests else 0.0


def find() -> str | None:
    """Path of the ``wrk`` executable, or None when it is not on PATH."""
    return shutil.which("wrk")


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS[unit]


def _search(pattern: str, text: str, what: str) -> re.Match[str]:
    m = re.search(pattern, text, re.MULTILINE)
    if m is None:
        raise WrkError(f"wrk output has no {what} line; output was:\n{text[-2000:]}")
    return m


def parse(text: str) -> WrkResult:
    """The figures of one ``wrk --latency`` run from its stdout."""
    total = _search(rf"^\s*(\d+) requests in {_TIME}", text, "'N requests in T'")
    rate = _search(r"^Requests/sec:\s*([\d.]+)", text, "'Requests/sec'")
    p50 = _search(rf"^\s*50%\s+{_TIME}", text, "latency 50%")
    p99 = _search(rf"^\s*99%\s+{_TIME}", text, "latency 99%")
    non2xx = re.search(r"^\s*Non-2xx or 3xx responses:\s*(\d+)", text, re.MULTILINE)
    sock = re.search(
        r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
        text,
        re.MULTILINE,
    )
    counts = [int(x) for x in sock.groups()] if sock else [0, 0, 0, 0]
    return WrkResult(
        requests=int(total.group(1)),
        duration_s=_ms(total.group(2), total.group(3)) / 1e3,
        requests_per_s=float(rate.group(1)),
        non2xx=int(non2xx.group(1)) if non2xx else 0,
        socket_errors=dict(zip(("connect", "read", "write", "timeout"), counts, strict=True)),
        p50_ms=_ms(p50.group(1), p50.group(2)),
        p99_ms=_ms(p99.group(1), p99.group(2)),
    )


def _lua_string(data: bytes) -> str:
    """``data`` as a Lua string literal (every byte but letters and digits as ``\\ddd``)."""
    return '"' + "".join(chr(b) if chr(b).isalnum() else f"\\{b:03d}" for b in data) + '"'


def script(body: bytes) -> str:
    """The wrk Lua script: every request a POST of ``body`` as JSON."""
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = {_lua_string(body)}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )


async def run(url: str, connections: int, seconds: int, body: bytes = b"null") -> WrkResult:
    """Run wrk against ``url`` for ``seconds`` (whole seconds, wrk's resolution) and parse it.

    Bounded twice: wrk's own ``-d``, and a kill (of wrk's pid) ``seconds + 30`` s later.
    """
    exe = find()
    if exe is None:
        raise WrkError(MISSING)
    with tempfile.TemporaryDirectory(prefix="streamfn-wrk-") as tmp:
        lua = Path(tmp) / "post.lua"
        lua.write_text(script(body))
        args = [exe, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(lua), url]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = await asyncio.create_subprocess_exec(
            *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), timeout=seconds + 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise WrkError(f"wrk did not finish within {seconds + 30}s: {' '.join(args)}") from None
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        raise WrkError(
            f"wrk exited with {proc.returncode} ({' '.join(args)}):\n"
            f"{text[-1000:]}{err.decode(errors='replace')[-1000:]}"
        )
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return replace(parse(text), client_cpu_s=cpu)
