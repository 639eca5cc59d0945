"""GET /metrics: counters by route template, bounded labels, waiters, stream gauges."""

from __future__ import annotations

import asyncio
import time

from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis
from yarl import URL

from streamfn.gateway.state import CATALOG, CLIENT
from streamfn.keys import Keys
from streamfn.registry import withdraw
from tests.gateway.conftest import Client, raw_request
from tests.support.procs import wait_until

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: Client) -> Samples:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    out: Samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            out[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return out


def values(samples: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {labels: v for (n, labels), v in samples.items() if n == name}


def label_values(samples: Samples, name: str, label: str) -> set[str]:
    return {dict(labels)[label] for labels in values(samples, name)}


async def test_requests_are_counted_by_route_template(client: Client) -> None:
    inv = (await (await client.post("/invoke/echo")).json())["id"]
    await client.get(f"/invocations/{inv}")
    await client.get(f"/invocations/{inv}")
    for i in range(30):
        await client.get(f"/no/such/path/{i}")
    await client.post(URL("/invoke/%ff%00", encoded=True))
    samples = await scrape(client)
    routes = label_values(samples, "http_requests_total", "route")
    assert routes <= {"/invoke/{fn}", "/invocations/{id}", "unmatched", "/metrics"}
    assert {"/invoke/{fn}", "/invocations/{id}", "unmatched"} <= routes
    key = frozenset({("route", "/invocations/{id}"), ("method", "GET"), ("status", "200")})
    assert values(samples, "http_requests_total")[key] == 2
    key = frozenset({("route", "unmatched"), ("method", "GET"), ("status", "404")})
    assert values(samples, "http_requests_total")[key] == 30
    text = await (await client.get("/metrics")).text()
    assert inv not in text
    assert "/no/such" not in text


async def test_unusual_methods_share_one_label(client: Client) -> None:
    for method in (b"PROPFIND", b"MKCOL", b"PURGE"):
        status, _ = await raw_request(
            client, method + b" /invoke/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert 400 <= status < 500
    methods = label_values(await scrape(client), "http_requests_total", "method")
    assert methods == {"other"}  # a scrape is counted after it renders


async def test_invocation_outcomes_with_bounded_function_labels(client: Client) -> None:
    await client.post("/invoke/echo")
    await client.post("/invoke/echo?delay=60")
    for _ in range(2):
        await client.post("/invoke/echo", headers={"Idempotency-Key": "k"})
    await client.post("/invoke/echo", data=b"{bad")
    for i in range(50):
        await client.post(f"/invoke/nosuch{i}")
        await client.post(URL(f"/invoke/BAD{i}", encoded=True))
    accepted = values(await scrape(client), "invocations_accepted_total")
    by_key = {(dict(k)["function"], dict(k)["outcome"]): v for k, v in accepted.items()}
    assert by_key == {
        ("echo", "queued"): 2,
        ("echo", "scheduled"): 1,
        ("echo", "duplicate"): 1,
        ("echo", "rejected"): 1,
        ("unknown", "rejected"): 100,
    }


async def test_waiters_gauge_counts_requests_waiting(client: Client) -> None:
    assert client.app is not None
    hub = client.app[CLIENT].waiters
    calls = [asyncio.create_task(client.post("/invoke/slow?wait=5")) for _ in range(3)]
    try:

        async def three_waiting() -> bool:
            return hub.waiting == 3

        await wait_until(three_waiting, 5, what="three waiters")
        assert values(await scrape(client), "waiters") == {frozenset(): 3.0}
    finally:
        for call in calls:
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)


DEPTH = "streamfn_stream_depth"
AGE = "streamfn_stream_oldest_age_seconds"


async def test_stream_gauges_follow_the_catalog(client: Client, redis: Redis, keys: Keys) -> None:
    assert client.app is not None
    now_ms = int(time.time() * 1000)
    # An entry queued a minute ago (ids are ms timestamps), then two fresh ones.
    await redis.xadd(
        keys.stream("echo"), {"id": "x", "p": "null", "a": 1}, id=f"{now_ms - 60000}-0"
    )
    await client.post("/invoke/echo")
    await client.post("/invoke/echo")
    await client.app[CATALOG].refresh()
    samples = await scrape(client)
    depth = {dict(k)["function"]: v for k, v in values(samples, DEPTH).items()}
    assert depth == {"echo": 3, "slow": 0}
    age = {dict(k)["function"]: v for k, v in values(samples, AGE).items()}
    assert 55 < age["echo"] < 120
    assert age["slow"] == 0

    # Its runner gone, a deployed function's waiting work stays in view; removed, it goes.
    await withdraw(redis, keys, "r1", {"echo": {}, "slow": {}}, now_ms=now_ms)
    await client.app[CATALOG].refresh()
    depth = {dict(k)["function"]: v for k, v in values(await scrape(client), DEPTH).items()}
    assert depth == {"echo": 3, "slow": 0}
    assert (await client.delete("/functions/echo")).status == 200
    samples = await scrape(client)
    assert {dict(k)["function"] for k in values(samples, DEPTH)} == {"slow"}
    assert {dict(k)["function"] for k in values(samples, AGE)} == {"slow"}


async def test_stream_gauges_are_read_at_each_scrape(client: Client) -> None:
    await client.post("/invoke/slow")

    depth = values(await scrape(client), "streamfn_stream_depth")
    assert depth.get(frozenset({("function", "slow")})) == 1  # no refresh in between
