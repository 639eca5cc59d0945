"""The multi-master part of ``scaling``: the warm drain over one or several no-op functions,
with each master's share of the commands and of Redis CPU.

One variant = one fresh namespace on one Redis (a node or a cluster), a functions dir holding
only its no-op functions (``bench.handlers.write_noops``, with ``PARTITIONS`` when asked), and
:data:`RUNNERS` runner processes serving all of them.  Each repeat freezes the runners,
queues N spread evenly over the functions, reads every master's ``INFO`` (:mod:`bench.nodes`),
resumes them (t0), waits until every stream of every function is empty (t1), and reads
``INFO`` again.  The streams are those of each function's queues
(:func:`streamfn.partitions.queues`): the bench names no partition's key itself, and its
client learns ``PARTITIONS`` from the runners' reports, so its batches spread over the queues.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from bench.cpu import cpu_seconds
from bench.failure import BenchError
from bench.handlers import write_noops
from bench.harness import Harness, Namespace
from bench.nodes import Reading, commands_between, master_of, masters, read_masters
from bench.observe import read_records, wait_streams_empty
from bench.result import Figures
from streamfn.keys import Keys
from streamfn.partitions import queues as queues_of

RUNNERS = 2
"""Runner processes per variant: one runner is what bounds the ``r1_`` drain, and more than
two only contend for 2 cores."""
FUNCTIONS_PER_MASTER = 3
_CANDIDATES = 10_000


async def pick_spread(ns: Namespace, per_master: int) -> list[str]:
    """Function names ``spread_<i>``, ``per_master`` on each master, each in a shard of its
    own while there are shards to spare (bounded: the first :data:`_CANDIDATES` names)."""
    keys = ns.stack.keys
    order = await masters(ns.redis, keys.tags)
    taken: dict[str, list[str]] = {m: [] for m in order}
    shards: set[int] = set()
    fresh_only = per_master * len(order) <= keys.shards
    for i in range(_CANDIDATES):
        name = f"spread_{i}"
        shard = keys.shard(name)
        master = master_of(ns.redis, keys.tags[shard])
        if len(taken[master]) >= per_master or (fresh_only and shard in shards):
            continue
        taken[master].append(name)
        shards.add(shard)
        if all(len(names) == per_master for names in taken.values()):
            return [name for m in order for name in taken[m]]
    raise BenchError(f"no {per_master} function names per master among {_CANDIDATES} tried")


async def queue_spread(ns: Namespace, functions: Sequence[str], n: int) -> dict[str, list[str]]:
    """``n`` no-op invocations, as evenly as can be over ``functions``; ids per function."""
    ids: dict[str, list[str]] = {}
    for k, fn in enumerate(functions):
        count = n // len(functions) + (k < n % len(functions))
        ids[fn] = []
        for start in range(0, count, 1000):
            size = min(1000, count - start)
            ids[fn] += await ns.client.enqueue_many(fn, ({"i": start + j} for j in range(size)))
    return ids


def streams_of(keys: Keys, function: str, partitions: int) -> list[str]:
    """The stream of each of the function's queues (:mod:`streamfn.partitions`)."""
    return [keys.stream(q) for q in queues_of(function, partitions)]


async def learn_partitions(ns: Namespace, functions: Sequence[str], partitions: int) -> None:
    """Wait until the runners report ``partitions`` for every function, and let the bench's
    client take it: its batches then spread over the queues as the gateway's would."""
    deadline = time.monotonic() + 15.0
    while True:
        known = await ns.client.refresh_partitions()
        if all(known.get(fn, 1) == partitions for fn in functions):
            return
        if time.monotonic() > deadline:
            raise BenchError(f"runners did not report PARTITIONS = {partitions} in 15 s")
        await asyncio.sleep(0.1)


def layout(
    ns: Namespace, functions: Sequence[str], partitions: int, order: Sequence[str]
) -> dict[str, Any]:
    """Each function's shard and the masters of its streams: the variant's params."""
    keys: Keys = ns.stack.keys
    return {
        fn: {
            "shard": keys.shard(fn),
            "masters": [
                f"master{order.index(master_of(ns.redis, stream)) + 1}"
                for stream in streams_of(keys, fn, partitions)
            ],
        }
        for fn in functions
    }


async def variant(
    h: Harness,
    url: str,
    label: str,
    functions: Sequence[str] | None,
    partitions: int | None,
    n: int,
) -> tuple[list[Figures], dict[str, Any]]:
    """A warm-up and ``h.repeats`` measured drains of one variant; ``functions=None`` picks
    :func:`pick_spread`'s names on this Redis.  Returns the repeats and the variant's params."""
    directory = h.tmp / f"functions-{label}"
    async with h.namespace(url, directory) as ns:
        names = list(functions or await pick_spread(ns, FUNCTIONS_PER_MASTER))
        write_noops(directory, names, partitions)
        await ns.stack.start_runners(RUNNERS, names)
        await learn_partitions(ns, names, partitions or 1)
        order = await masters(ns.redis, ns.stack.keys.tags)
        streams = [s for fn in names for s in streams_of(ns.stack.keys, fn, partitions or 1)]
        await queue_spread(ns, names, min(n, 1000))
        await wait_streams_empty(ns.redis, streams, timeout=60.0)
        repeats = []
        for _ in range(h.repeats):
            repeats.append(await drain(ns, names, streams, order, n))
            await asyncio.sleep(0.2)  # as Harness.repeat: let the tail settle
        params = {
            "url": url,
            "masters": len(order),
            "runners": RUNNERS,
            "partitions": partitions or 1,
            "functions": layout(ns, names, partitions or 1, order),
        }
        return repeats, params


async def drain(
    ns: Namespace, functions: Sequence[str], streams: Sequence[str], order: Sequence[str], n: int
) -> Figures:
    """One SIGSTOP / enqueue / SIGCONT / every stream empty measurement, read per master."""
    runners = ns.stack.runners
    for r in runners:
        r.pause()
    try:
        ids = await queue_spread(ns, functions, n)
        cpu0 = cpu_seconds(*runners)
        before = await read_masters(ns.redis)
    finally:
        t0 = time.perf_counter()
        for r in runners:
            r.resume()
    t1, polls = await wait_streams_empty(ns.redis, streams, timeout=max(60.0, n / 200))
    cpu1 = cpu_seconds(*runners)
    after = await read_masters(ns.redis)
    done = 0
    succeeded = 0
    for fn_ids in ids.values():
        ok = (await read_records(ns.redis, ns.stack.keys, fn_ids)).succeeded
        succeeded += ok
        done += ok == len(fn_ids)
    own: Counter[str] = Counter()
    for stream, count in polls.items():
        own[master_of(ns.redis, stream)] += count
    figures: Figures = {
        "succeeded": succeeded,
        "functions_done": done,
        "drain_s": t1 - t0,
        "drain_per_s": n / (t1 - t0),
        "runner_cpu_us_per_inv": (cpu1 - cpu0) / n * 1e6,
    }
    figures.update(per_master(before, after, order, own, n))
    return figures


def per_master(
    before: dict[str, Reading],
    after: dict[str, Reading],
    order: Sequence[str],
    own_xlen: Counter[str],
    n: int,
) -> Figures:
    """Each master's share of the commands (the bench's INFO and XLEN polls left out) and of
    Redis CPU, the totals per invocation, and ``balance`` = mean / busiest master's commands."""
    commands = {m: commands_between(before[m], after[m], {"xlen": own_xlen[m]}) for m in order}
    cpu = {m: after[m].cpu_s - before[m].cpu_s for m in order}
    all_commands, all_cpu = sum(commands.values()), sum(cpu.values())
    figures: Figures = {
        "redis_cmds_per_inv": all_commands / n,
        "redis_cpu_us_per_inv": all_cpu / n * 1e6,
        "balance": (all_commands / len(order)) / max(commands.values()) if all_commands else None,
    }
    for i, m in enumerate(order, 1):
        figures[f"master{i}_cmd_pct"] = 100 * commands[m] / all_commands if all_commands else None
        figures[f"master{i}_cpu_pct"] = 100 * cpu[m] / all_cpu if all_cpu else None
    return figures
