"""streamfn.keys: the several-keys-at-once helpers name exactly the keys of the one-key ones."""

from __future__ import annotations

from streamfn.keys import Keys


def test_queue_keys_and_invocations_match_the_single_key_names() -> None:
    k = Keys("ns")
    assert k.queue_keys("fn", "fn.a") == [
        k.stream("fn"),
        k.timers("fn"),
        k.invocation("fn", "fn.a"),
    ]
    assert k.invocations("fn", ["fn.a", "fn.b"]) == [
        k.invocation("fn", "fn.a"),
        k.invocation("fn", "fn.b"),
    ]
    assert k.invocations("fn", []) == []
