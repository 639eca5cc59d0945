"""peers: the same 10,000 no-op jobs through saq, arq, taskiq (taskiq-redis stream broker),
dramatiq, Celery and BullMQ (when ``node`` is on PATH) and through streamfn, on the bench's own
redis-server in the same run, interleaved round-robin across repeats so drift hits all alike.

Every peer: one worker process with the settings stated in :mod:`bench.peers.specs`, its own
pinned virtualenv (or ``node_modules``) under ``bench/.peers/``, its own Redis database
(FLUSHDB of that database only), the protocol of ``bench/peers/adapters/protocol.py``:
``e2e_per_s`` = N / (first enqueue to last job run) with jobs enqueued one call at a time while
the worker runs; ``drain_per_s`` = N / (SIGCONT to last job run) for N jobs queued while the
worker was frozen; worker CPU µs per job over the drain (``/proc``).  streamfn runs the same
protocol three ways (see :mod:`bench.workloads._ours`).  A peer that cannot be installed or run
is listed with the reason and the run goes on.  Needs the bench's own redis-server: with
``--redis-url`` it is skipped.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.harness import Harness
from bench.peers.run import run_peer
from bench.peers.specs import BY_NAME, PEERS, PeerSpec
from bench.result import Check, Figures, WorkloadResult
from bench.stats import summarize
from bench.workloads import _ours

NAME = "peers"
FIGURES = (
    "e2e_per_s",
    "drain_per_s",
    "worker_cpu_us_per_job_drain",
    "enqueue_s",
    "e2e_s",
    "drain_s",
    "redis_cmds_per_job",
    "redis_cpu_us_per_job_drain",
)
OURS = {
    "streamfn-client": "streamfn, Client.enqueue one call at a time (the peers' producer)",
    "streamfn-http-1": "streamfn, POST /invoke one request at a time, 1 connection",
}


def _selected(names: tuple[str, ...] | None) -> list[PeerSpec]:
    if not names:
        return list(PEERS)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ValueError(f"unknown peer(s) {unknown}; known: {', '.join(BY_NAME)}")
    return [BY_NAME[n] for n in names]


async def run(h: Harness) -> WorkloadResult:
    n = h.n(10_000, 300)
    specs = _selected(h.options.peers)
    conc = h.options.concurrency
    labels = {**OURS, f"streamfn-http-{conc}": f"streamfn, POST /invoke over {conc} connections"}
    result = WorkloadResult(
        NAME,
        __doc__ or "",
        params={"n": n, "peers": [s.name for s in specs]},
        headline=[],
    )
    if not h.own_redis:
        result.error = "skipped: peers FLUSHDB their database, so they need the bench's own "
        result.error += "redis-server (run without --redis-url)"
        return result
    raw: dict[str, list[dict[str, Any]]] = {}
    for i in range(h.repeats):
        with h.progress(len(specs) + 1, f"peers round {i + 1}") as bar:
            for system, figures in (await _ours.measure(h, n)).items():
                raw.setdefault(system, []).append({"ok": True, **figures})
            bar.update()
            for spec in specs:
                out = await asyncio.to_thread(run_peer, spec, h.redis_db_url(spec.db), n)
                raw.setdefault(spec.name, []).append(out)
                bar.update()
    result.repeats = [_flatten(raw, i) for i in range(h.repeats)]
    result.systems = [
        _row(name, labels.get(name), runs, None)
        for name, runs in raw.items()
        if name.startswith("streamfn")
    ]
    result.systems += [_row(s.name, s.label, raw[s.name], s) for s in specs]
    _compare(result, conc)
    return result


def _flatten(raw: dict[str, list[dict[str, Any]]], i: int) -> Figures:
    out: Figures = {}
    for system, runs in raw.items():
        if i < len(runs) and runs[i].get("ok"):
            out.update({f"{system}:{k}": runs[i].get(k) for k in FIGURES if k in runs[i]})
    return out


def _row(
    name: str, label: str | None, runs: list[dict[str, Any]], spec: PeerSpec | None
) -> dict[str, Any]:
    ok = [r for r in runs if r.get("ok")]
    row: dict[str, Any] = {
        "system": name,
        "label": label or name,
        "settings": spec.settings if spec else "default settings, 1 runner process",
        "versions": next((r.get("versions") for r in ok), None if spec else "this checkout"),
        "ok_runs": len(ok),
        "runs": len(runs),
        "missing": any(r.get("missing") for r in runs),
        "errors": sorted({str(r["error"]) for r in runs if r.get("error")}),
        "drain_errors": sorted({str(r["drain_error"]) for r in runs if r.get("drain_error")}),
    }
    for fig in FIGURES:
        s = summarize([r.get(fig) for r in ok])
        row[fig] = s["median"]
        row[f"{fig}_spread"] = s["spread"]
    return row


def _compare(result: WorkloadResult, conc: int) -> None:
    peers = [r for r in result.systems if not r["system"].startswith("streamfn") and r["e2e_per_s"]]
    ours = {r["system"]: r for r in result.systems if r["system"].startswith("streamfn")}
    for r in result.systems:
        if not r["ok_runs"]:
            why = "; ".join(r["errors"]) or "no result"
            result.notes.append(f"{r['label']}: {'MISSING' if r['missing'] else 'FAILED'}: {why}")
        for why in r["drain_errors"]:
            result.notes.append(f"{r['label']}: drain phase failed in a run: {why}")
    if not peers:
        return
    fastest = max(peers, key=lambda r: r["e2e_per_s"])
    for r in result.systems:
        r["e2e_ratio_to_fastest_peer"] = (r["e2e_per_s"] or 0) / fastest["e2e_per_s"]
    http = ours.get(f"streamfn-http-{conc}", {})
    one = ours.get("streamfn-http-1", {})
    if http.get("e2e_per_s"):
        ratio = http["e2e_per_s"] / fastest["e2e_per_s"]
        one_ratio = (one.get("e2e_per_s") or 0) / fastest["e2e_per_s"]
        result.checks.append(
            Check(
                f"target: end to end over HTTP at least 2x the fastest peer ({fastest['label']})",
                ratio >= 2.0,
                f"{http['e2e_per_s']:,.0f}/s vs {fastest['e2e_per_s']:,.0f}/s = {ratio:.2f}x "
                f"({conc} connections); one request at a time on 1 connection: {one_ratio:.2f}x",
            )
        )
    bull = next((r for r in peers if r["system"] == "bullmq" and r["drain_per_s"]), None)
    base = bull or max(peers, key=lambda r: r["drain_per_s"] or 0)
    client = ours.get("streamfn-client", {})
    if client.get("drain_per_s") and base["drain_per_s"]:
        ratio = client["drain_per_s"] / base["drain_per_s"]
        result.checks.append(
            Check(
                f"target: runner drain at least 2x {base['label']}'s worker drain",
                ratio >= 2.0,
                f"{client['drain_per_s']:,.0f}/s vs {base['drain_per_s']:,.0f}/s = {ratio:.2f}x",
            )
        )
