"""streamfn.deployed.classify: each function's state from the live reports and the registry."""

from __future__ import annotations

from streamfn.deployed import (
    FILE_REMOVED,
    OPERATOR,
    RETENTION,
    Deployment,
    Loaded,
    Removal,
    classify,
    needs_clock,
)

POLICY = {"timeout": 5.0, "partitions": 2}
DAY = 86_400_000


def test_a_function_a_live_runner_loads_is_live_whatever_the_registry_says() -> None:
    states = classify(
        {"echo": Loaded(POLICY, 2)},
        {"echo": 1},  # another runner lost the file: this one still has it
        {"echo": Deployment({"timeout": 1.0}, 0)},
        {"echo": Removal(5, OPERATOR)},
        now_ms=10 * DAY,
        retention_ms=DAY,
    )
    assert states.functions == {"echo": {"name": "echo", **POLICY, "runners": 2, "state": "live"}}
    assert states.removed == {}


def test_no_runner_within_retention_is_deployed_until_seen_plus_retention() -> None:
    loaded: dict[str, Loaded] = {}
    deployments = {"echo": Deployment(POLICY, 1000)}
    assert needs_clock(loaded, {}, deployments, {}, DAY)
    states = classify(loaded, {}, deployments, {}, now_ms=1000 + DAY - 1, retention_ms=DAY)
    assert states.functions["echo"] == {
        "name": "echo",
        **POLICY,
        "runners": 0,
        "state": "no_runner",
        "last_seen_at": 1000,
        "retained_until": 1000 + DAY,
    }
    expired = classify(loaded, {}, deployments, {}, now_ms=1000 + DAY, retention_ms=DAY)
    assert expired.functions == {}
    assert expired.removed["echo"]["reason"] == RETENTION
    assert expired.removed["echo"]["removed_at"] == 1000 + DAY


def test_retention_0_keeps_a_function_with_no_runner_deployed_until_it_is_removed() -> None:
    loaded: dict[str, Loaded] = {}
    deployments = {"echo": Deployment(POLICY, 1000), "gone": Deployment(POLICY, 1000)}
    removals = {"gone": Removal(2000, OPERATOR)}
    assert not needs_clock(loaded, {}, deployments, removals, 0)  # no time decides anything
    years = 1000 + 3650 * DAY
    states = classify(loaded, {}, deployments, removals, now_ms=years, retention_ms=0)
    assert states.functions == {
        "echo": {
            "name": "echo",
            **POLICY,
            "runners": 0,
            "state": "no_runner",
            "last_seen_at": 1000,
        }
    }
    assert states.removed["gone"]["reason"] == OPERATOR


def test_removed_by_a_live_runners_report_or_by_the_registry() -> None:
    deployments = {"a": Deployment(POLICY, 7), "b": Deployment(POLICY, 7)}
    removing = {"a": 50}
    removals = {"b": Removal(60, OPERATOR)}
    assert not needs_clock({}, removing, deployments, removals, DAY)
    states = classify({}, removing, deployments, removals, now_ms=0, retention_ms=DAY)
    assert states.functions == {}
    assert states.removed == {
        "a": {
            "name": "a",
            **POLICY,
            "last_seen_at": 7,
            "state": "removed",
            "reason": FILE_REMOVED,
            "removed_at": 50,
        },
        "b": {
            "name": "b",
            **POLICY,
            "last_seen_at": 7,
            "state": "removed",
            "reason": OPERATOR,
            "removed_at": 60,
        },
    }


def test_a_removal_of_a_name_never_deployed_changes_nothing() -> None:
    states = classify(
        {}, {"ghost": 1}, {}, {"other": Removal(1, OPERATOR)}, now_ms=0, retention_ms=1
    )
    assert states.functions == {} and states.removed == {}
