"""The measurement protocol every Python peer adapter follows (standard library + redis-py).

Worker side: the peer's job body calls :func:`record` with the job's ``i``.  The worker counts
distinct ``i`` per phase in memory and, when a phase has all N, RPUSHes one JSON line to the
done key: one Redis call per phase, not per job, so detection costs the peer nothing.

Driver side, :func:`drive` (one process, the producer):
1. FLUSHDB of the peer's own database on the bench's private redis-server; start ONE worker.
2. Warm-up job ``i = -1``; wait until the worker ran it (imported, connected, warm).
3. End to end: t0; enqueue N jobs ``i = 0..N-1`` one call at a time through the peer's normal
   enqueue API while the worker runs; t1; BLPOP the done line: t2.
   ``e2e_per_s`` = N / (t2 - t0); ``enqueue_s`` = t1 - t0.
4. Drain: SIGSTOP the worker's process tree, enqueue N more (``enqueue_solo_s``), SIGCONT (t3),
   BLPOP the done line (t4): ``drain_per_s`` = N / (t4 - t3).
5. CPU of the worker tree (``/proc``), of the producer (``os.times``) and of redis-server
   (``INFO cpu``), and Redis commands per job (``INFO stats``), around each phase.
The result is printed as one JSON line on stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis

URL = os.environ.get("BENCH_PEER_REDIS_URL", "redis://127.0.0.1:6379/15")
N = int(os.environ.get("BENCH_PEER_N", "10000"))
DONE_KEY = "bench:peer:done"
_TICK = os.sysconf("SC_CLK_TCK")

_seen: list[set[int]] = [set(), set()]
_execs = 0
_client: Any = None


def record(i: int) -> None:
    """Called by the peer's job body, in the worker process (any thread)."""
    global _execs, _client
    _execs += 1
    if _client is None:
        _client = redis.Redis.from_url(URL, socket_timeout=30)
    if i < 0:
        _client.rpush(DONE_KEY, json.dumps({"phase": "warm"}))
        return
    phase = _seen[min(i // N, 1)]
    phase.add(i)
    if len(phase) == N:
        _client.rpush(DONE_KEY, json.dumps({"phase": i // N, "execs": _execs}))


def _tree(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(raw[raw.rindex(")") + 2 :].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(parents.get(p, []))
    return out


def tree_cpu(pid: int) -> float:
    total = 0.0
    for p in _tree(pid):
        try:
            raw = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        f = raw[raw.rindex(")") + 2 :].split()
        total += (int(f[11]) + int(f[12])) / _TICK
    return total


def _signal_tree(pid: int, sig: int) -> None:
    for p in _tree(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, sig)


def start_worker(args: list[str]) -> subprocess.Popen[bytes]:
    """The worker inherits our environment (``BENCH_PEER_*``, ``PYTHONPATH``)."""
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=sys.stderr)


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    _signal_tree(proc.pid, signal.SIGCONT)
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        for p in reversed(_tree(proc.pid)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
        proc.wait(5)


def _await_done(r: Any, phase: object, timeout: float) -> float:
    # Short BLPOPs in a loop: a long one would outlive redis-py's socket read timeout.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = r.blpop([DONE_KEY], timeout=1)
        if got is not None and json.loads(got[1])["phase"] == phase:
            return time.perf_counter()
    raise TimeoutError(f"phase {phase!r} not done within {timeout:.0f}s")


def _redis_counters(r: Any) -> tuple[float, int]:
    cpu, stats = r.info("cpu"), r.info("stats")
    return cpu["used_cpu_user"] + cpu["used_cpu_sys"], int(stats["total_commands_processed"])


def _self_cpu() -> float:
    t = os.times()
    return t.user + t.system


async def drive(
    worker_args: list[str],
    enqueue: Callable[[int], Awaitable[object]],
    info: dict[str, Any],
) -> dict[str, Any]:
    """Run the protocol above; ``enqueue(i)`` queues one job through the peer's API.

    A failed drain phase keeps the end-to-end figures and says why in ``drain_error``.
    """
    timeout = max(60.0, N / 50)  # 50 jobs/s: far below any peer measured here
    r = redis.Redis.from_url(URL, socket_timeout=30)
    worker = start_worker(worker_args)
    try:
        await enqueue(-1)
        _await_done(r, "warm", 120.0)
        w0, p0, (rc0, cmd0) = tree_cpu(worker.pid), _self_cpu(), _redis_counters(r)
        t0 = time.perf_counter()
        for i in range(N):
            await enqueue(i)
        t1 = time.perf_counter()
        t2 = _await_done(r, 0, timeout)
        w1, p1, (rc1, cmd1) = tree_cpu(worker.pid), _self_cpu(), _redis_counters(r)
        out = {
            **info,
            "ok": True,
            "n": N,
            "enqueue_s": t1 - t0,
            "e2e_s": t2 - t0,
            "e2e_per_s": N / (t2 - t0),
            "worker_cpu_e2e_s": w1 - w0,
            "producer_cpu_e2e_s": p1 - p0,
            "redis_cpu_e2e_s": rc1 - rc0,
            "redis_cmds_per_job": (cmd1 - cmd0) / N,
        }
        try:
            out.update(await _drain(r, worker, enqueue, timeout))
        except Exception as exc:
            out["drain_error"] = f"{type(exc).__name__}: {exc}"
        return out
    finally:
        stop_worker(worker)
        r.close()


async def _drain(
    r: Any,
    worker: subprocess.Popen[bytes],
    enqueue: Callable[[int], Awaitable[object]],
    timeout: float,
) -> dict[str, Any]:
    _signal_tree(worker.pid, signal.SIGSTOP)
    try:
        s0 = time.perf_counter()
        for i in range(N, 2 * N):
            await enqueue(i)
        s1 = time.perf_counter()
        w2, (rc2, _) = tree_cpu(worker.pid), _redis_counters(r)
    finally:
        t3 = time.perf_counter()
        _signal_tree(worker.pid, signal.SIGCONT)
    t4 = _await_done(r, 1, timeout)
    w3, (rc3, _) = tree_cpu(worker.pid), _redis_counters(r)
    return {
        "enqueue_solo_s": s1 - s0,
        "drain_s": t4 - t3,
        "drain_per_s": N / (t4 - t3),
        "worker_cpu_us_per_job_drain": (w3 - w2) / N * 1e6,
        "redis_cpu_us_per_job_drain": (rc3 - rc2) / N * 1e6,
    }


def main(
    worker_args: list[str],
    enqueue_factory: Callable[[], Awaitable[Callable[[int], Awaitable[object]]]],
    info: dict[str, Any],
) -> None:
    """Entry point of a driver: FLUSHDB our own db, run :func:`drive`, print one JSON line."""
    redis.Redis.from_url(URL).flushdb()

    async def go() -> dict[str, Any]:
        enqueue = await enqueue_factory()
        return await drive(worker_args, enqueue, info)

    try:
        out = asyncio.run(go())
    except Exception as exc:  # the harness reports it as this peer's failure
        out = {**info, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(out), flush=True)
