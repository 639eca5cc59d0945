"""The encoders in streamfn.scripts.*_calls: one per script, each building as many keys as its
script's header declares (a drift between a header and its encoder fails here), and a call
with the wrong number of keys refused before anything is sent."""

from __future__ import annotations

import asyncio
from types import ModuleType

import pytest
from redis.asyncio import Redis
from redis.crc import key_slot

from streamfn.batching import ScriptBatcher
from streamfn.keys import Keys
from streamfn.outcomes import Completion
from streamfn.scripts import (
    SCRIPTS,
    Call,
    index_calls,
    invocation_calls,
    lease_calls,
    outcome_calls,
    run,
    run_batch,
    schedule_calls,
)
from streamfn.scripts.schedule_calls import FireStep

K = Keys("ns")
MODULES = (invocation_calls, outcome_calls, lease_calls, schedule_calls, index_calls)


def every_call() -> list[Call]:
    """Each encoder fed the shapes it must handle: optional key absent and present, variadic
    tails empty, of one and of many."""
    ok = Completion("fn", "1-1", "fn.a", 3)
    bad = Completion("fn", "1-2", "fn.b", 3, error={"type": "E"})
    fire = FireStep("s", 1000, "rev", None, [(1000, "fn.x"), (2000, "fn.y")])
    return [
        invocation_calls.enqueue(K, "fn", "fn.a", b"1"),
        invocation_calls.enqueue(K, "fn", "fn.a", b"1", idempotency_key="k", extra={"a": "b"}),
        invocation_calls.promote(K, "fn", []),
        invocation_calls.promote(K, "fn", ["fn.a", "fn.b"]),
        invocation_calls.cancel(K, "fn", "fn.a", 1000),
        invocation_calls.cancel_running(K, "fn", "fn.a", 1000),
        invocation_calls.replay(K, "fn", "fn.a"),
        invocation_calls.discard(K, "fn", "fn.a"),
        invocation_calls.watch(K, "fn", "fn.a"),
        outcome_calls.complete(K, "fn", "r1", 1000, [ok]),
        outcome_calls.complete(K, "fn", "r1", 1000, [ok] * 100),
        outcome_calls.fail(K, "r1", bad, failed_ttl_ms=1, dead_ttl_ms=2, dead_maxlen=3),
        outcome_calls.cancel_done(K, "r1", bad, 1000),
        lease_calls.extend(K, "fn", "r1", ["1-1", "1-2"]),
        lease_calls.reclaim(K, "fn", "r1", 1000, "0-0", 100),
        lease_calls.release(K, "fn", "r1", "1-1", "fn.a"),
        lease_calls.reap_consumers(K, "fn", "r1", 1000, 100),
        schedule_calls.schedule_upsert(K, "fn", "s", "digest", None, "rev", ["kind", "cron"]),
        schedule_calls.schedule_delete(K, "fn", "s"),
        schedule_calls.schedule_pause(K, "fn", "s"),
        schedule_calls.schedule_resume(K, "fn", "s", "rev", 5000),
        schedule_calls.schedule_fire(K, "fn", 1000, []),
        schedule_calls.schedule_fire(K, "fn", 1000, [fire, fire._replace(schedule_id="t")]),
        index_calls.reindex(K, "fn"),
        index_calls.index_range(K.index_status("fn"), ["live:", "dead:"], 10, "", ""),
        index_calls.index_trim(K, "fn", 100),
    ]


def encoders(module: ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if callable(value)
        and getattr(value, "__module__", None) == module.__name__
        and not name.startswith("_")
        and not isinstance(value, type)
    }


def test_every_script_has_one_encoder_named_after_it() -> None:
    names = [name for module in MODULES for name in encoders(module)]
    assert sorted(names) == sorted(s.name for s in SCRIPTS.all())


@pytest.mark.parametrize("call", every_call(), ids=lambda c: c[0].name)
def test_each_encoder_builds_the_keys_its_header_declares(call: Call) -> None:
    script, keys, _ = call
    assert script.shape.accepts(len(keys)), (script.name, script.shape.describe(), keys)
    assert {key_slot(k.encode()) for k in keys} == {key_slot(K.stream("fn").encode())}  # one slot


def test_the_calls_above_cover_every_script() -> None:
    assert {script.name for script, _, _ in every_call()} == {s.name for s in SCRIPTS.all()}


def test_optional_and_variadic_keys_follow_the_arguments() -> None:
    (_, plain, _), (_, idem, _) = every_call()[:2]
    assert (len(plain), len(idem)) == (9, 10)
    assert len(invocation_calls.promote(K, "fn", ["fn.a"] * 7)[1]) == 4 + 7
    done = Completion("fn", "1-1", "fn.a", 3)
    assert len(outcome_calls.complete(K, "fn", "r1", 1, [done] * 5)[1]) == 7 + 5
    # Schedules live in the home queue: a partition queue's reindex leaves them out.
    assert len(index_calls.reindex(K, "fn")[1]) == 6
    assert len(index_calls.reindex(K, "fn@3.1")[1]) == 4


def test_a_wrong_key_count_names_the_script_and_both_counts() -> None:
    with pytest.raises(ValueError, match=r"enqueue\.lua takes 9 or 10 keys .*got 2"):
        SCRIPTS.enqueue.check(2)
    with pytest.raises(ValueError, match=r"watch\.lua takes 1 key .*got 0"):
        SCRIPTS.watch.check(0)
    with pytest.raises(ValueError, match=r"promote\.lua takes 4 or more keys .*got 3"):
        SCRIPTS.promote.check(3)


async def test_a_wrong_key_count_is_refused_before_sending(redis: Redis, keys: Keys) -> None:
    good = invocation_calls.enqueue(keys, "fn", "fn." + "a" * 24, b"1")
    short = (good[0], good[1][:2], good[2])
    with pytest.raises(ValueError, match=r"enqueue\.lua takes 9 or 10 keys"):
        await run(redis, short)
    with pytest.raises(ValueError, match=r"enqueue\.lua takes 9 or 10 keys"):
        await run_batch(redis, [good, short])
    with pytest.raises(ValueError, match=r"enqueue\.lua takes 9 or 10 keys"):
        await ScriptBatcher(redis, SCRIPTS.enqueue).call(short)
    assert not await redis.exists(keys.stream("fn"))  # not even the good call was sent


async def test_a_batch_runs_one_script(redis: Redis, keys: Keys) -> None:
    calls = [
        invocation_calls.watch(keys, "fn", "fn.a"),
        invocation_calls.replay(keys, "fn", "fn.a"),
    ]
    with pytest.raises(ValueError, match="one batch runs one script: watch and replay"):
        await run_batch(redis, calls)
    with pytest.raises(ValueError, match="this batcher runs enqueue, not watch"):
        await asyncio.wait_for(ScriptBatcher(redis, SCRIPTS.enqueue).call(calls[0]), 5)
