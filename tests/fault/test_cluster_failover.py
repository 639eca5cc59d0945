"""CF1: kill -9 a Redis Cluster master under load (3 masters, a replica each); CF1-durable:
the same with ``STREAMFN_DURABLE_REPLICAS=1``.

Hard: the killed master's function is answered only 503 while its slots have no master (never
500, never a dropped connection), the other function keeps its 202s, gateway and runners reach
the promoted replica by themselves (same pids), and every acknowledged invocation finishes.
With durable acknowledgement no acknowledged invocation is lost.  Without it, loss is
reported, not prevented: replication is asynchronous.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fault.cluster_failover import RATE, cluster_failover
from tests.fault.conftest import MakeStack
from tests.fault.failover import BEFORE
from tests.fault.figures import record

pytestmark = pytest.mark.fault

FAULT = (
    f"SIGKILL the master of one function's shard at t={BEFORE:g} s under {RATE:g} + "
    f"{RATE / 2:g} invocations/s; restart it once its replica is promoted"
)


async def test_cf1_master_killed_503_then_recovers(make_stack: MakeStack) -> None:
    stack = await make_stack(cluster=True)
    figures = await cluster_failover(stack)
    record(
        "CF1",
        title="Cluster failover: kill -9 a master (3 masters, 1 replica each)",
        fault=FAULT,
        expectation="only 503 for the killed shard; others 202; recover without restarts",
        recovery_s=figures["outage_s"],
        **{k: v for k, v in figures.items() if k != "outage_s"},
    )
    _assert_clean_outage(figures)


async def test_cf1_durable_loses_nothing_acknowledged(make_stack: MakeStack) -> None:
    stack = await make_stack(cluster=True)
    figures = await cluster_failover(stack, durable=True)
    record(
        "CF1-durable",
        title="Cluster failover with STREAMFN_DURABLE_REPLICAS=1",
        fault=FAULT,
        expectation="lost acknowledged 0; only 503 for the killed shard; recover without restarts",
        recovery_s=figures["outage_s"],
        **{k: v for k, v in figures.items() if k != "outage_s"},
    )
    _assert_clean_outage(figures)
    assert figures["lost"] == 0, figures


def _assert_clean_outage(figures: dict[str, Any]) -> None:
    assert figures["recovered_after_kill_s"] is not None, figures  # it recovered
    assert set(figures["statuses"]) <= {202, 503}, figures
    assert set(figures["victim_statuses_during_outage"]) <= {202, 503}, figures
    assert set(figures["bystander_statuses_during_outage"]) <= {202, 503}, figures
    assert not figures["client_errors"], figures
    assert figures["same_pids"], figures
    assert figures["unfinished"] == 0, figures
