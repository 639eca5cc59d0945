"""SF1: kill -9 the Sentinel-managed master under load; SF1-durable: the same with
``STREAMFN_DURABLE_REPLICAS=1``.

Hard: while no master is reachable the gateway answers only 503 (never 500, never a dropped
connection); gateway and runners reach the new master by themselves (same pids); with durable
acknowledgement no acknowledged invocation is lost.  Without it, loss is reported, not
prevented (asynchronous replication can drop the last writes).
"""

from __future__ import annotations

import pytest

from tests.fault.conftest import MakeStack
from tests.fault.failover import BEFORE, RATE, sentinel_failover
from tests.fault.figures import record

pytestmark = pytest.mark.fault

FAULT = (
    f"SIGKILL the master at t={BEFORE:g} s under {RATE:g} invocations/s; restart it once the "
    "replica is promoted (it rejoins as a replica)"
)


async def test_sf1_master_killed_gateway_answers_503_then_recovers(make_stack: MakeStack) -> None:
    stack = await make_stack(sentinel=True)
    figures = await sentinel_failover(stack, durable=False)
    record(
        "SF1",
        title="Sentinel failover: kill -9 the master (1 replica, 3 sentinels)",
        fault=FAULT,
        expectation="only 503 while no master; recover without restarts; loss reported",
        recovery_s=figures["outage_s"],
        **{k: v for k, v in figures.items() if k != "outage_s"},
    )
    _assert_clean_outage(figures)


async def test_sf1_durable_loses_nothing_acknowledged(make_stack: MakeStack) -> None:
    stack = await make_stack(sentinel=True)
    figures = await sentinel_failover(stack, durable=True)
    record(
        "SF1-durable",
        title="Sentinel failover with STREAMFN_DURABLE_REPLICAS=1",
        fault=FAULT,
        expectation="lost acknowledged 0; only 503 while unconfirmed; recover without restarts",
        recovery_s=figures["outage_s"],
        **{k: v for k, v in figures.items() if k != "outage_s"},
    )
    _assert_clean_outage(figures)
    assert figures["lost"] == 0, figures


def _assert_clean_outage(figures: dict[str, object]) -> None:
    assert figures["outage_s"] is not None, figures  # 202s came back: it recovered
    assert set(figures["statuses"]) <= {202, 503}, figures  # type: ignore[arg-type]
    assert set(figures["statuses_during_outage"]) <= {503}, figures  # type: ignore[arg-type]
    assert not figures["client_errors"], figures
    assert figures["same_pids"], figures
