"""The per-invocation bound shared by attempts, the TTL each attempt's key takes, and reading
the stored attempts back as lines with their markers."""

from __future__ import annotations

import orjson

from streamfn import invocation_logs
from streamfn.invocation_logs import DEAD, LONGEST, RESULT, budget, seal
from streamfn.log_lines import LogLines
from streamfn.settings import DEFAULTS


def test_attempts_share_the_bound_and_the_last_takes_the_rest() -> None:
    assert budget(64_000, 1, 4, final=True) == 64_000  # a first-try success keeps it all
    assert budget(64_000, 1, 4, final=False) == 16_000
    assert budget(64_000, 3, 4, final=True) == 32_000
    assert budget(64_000, 4, 4, final=True) == 16_000
    # retried attempts then the last: never more than the bound in all
    assert 3 * budget(64_000, 1, 4, final=False) + budget(64_000, 4, 4, final=True) == 64_000
    assert budget(64_000, 9, 4, final=True) == 16_000  # replays restart at 1; never below a share


def test_each_attempt_takes_its_records_ttl() -> None:
    def kind(final: bool, dead_letter: bool, dead: bool) -> int:
        lines = LogLines(1, 1000)
        lines.add("INFO", "log", "x")
        return seal(lines, 3, final=final, dead_letter=dead_letter, dead=dead).ttl

    assert kind(True, True, False) == RESULT  # succeeded or cancelled
    assert kind(True, True, True) == DEAD  # dead-lettered
    assert kind(True, False, True) == RESULT  # failed, not dead-lettered: the results TTL
    assert kind(False, True, False) == LONGEST  # retried: may still end dead
    assert kind(False, False, False) == RESULT
    s = DEFAULTS
    assert invocation_logs.ttl_ms(s, LONGEST) == int(max(s.result_ttl, s.dead_ttl) * 1000)


def test_a_sealed_retry_is_cut_to_its_share() -> None:
    lines = LogLines(1, 4000)
    for i in range(100):
        lines.add("INFO", "log", f"line {i}")
    sealed = seal(lines, 4, final=False, dead_letter=True, dead=False)
    stored = orjson.loads(sealed.blob)
    assert lines.size <= 1000
    assert stored["dropped_lines"] + len(stored["lines"]) == 100
    assert stored["lines"][-1][3] == "line 99"


def test_stored_attempts_read_back_in_order_with_markers() -> None:
    first = {"lines": [[5, "INFO", "stdout", "a"]], "dropped_lines": 2, "dropped_bytes": 99}
    second = {"lines": [[9, "ERROR", "log", "b"]], "dropped_lines": 0, "dropped_bytes": 0}
    fields = {b"10": orjson.dumps(second), b"2": orjson.dumps(first)}
    lines = invocation_logs.lines_of(fields)
    assert [(x["attempt"], x["stream"], x["message"][:18]) for x in lines] == [
        (2, "log", "[2 earlier lines ("),
        (2, "stdout", "a"),
        (10, "log", "b"),
    ]
    assert lines[0]["ts"] == 5 and lines[0]["level"] == "WARNING"
    assert [x["attempt"] for x in invocation_logs.lines_of(fields, 10)] == [10]
