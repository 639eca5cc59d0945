"""Policy constants: defaults from settings, and a clear error for each wrong type or range."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from streamfn.runner.policy import Policy, PolicyError, parse_policy
from streamfn.settings import DEFAULTS


def module(**consts: Any) -> ModuleType:
    m = ModuleType("m")
    for name, value in consts.items():
        setattr(m, name, value)
    return m


def test_defaults_come_from_settings() -> None:
    policy = parse_policy(module(), DEFAULTS)
    assert policy == Policy(
        timeout=DEFAULTS.default_timeout,
        retries=DEFAULTS.default_retries,
        backoff=1.0,
        backoff_max=300.0,
        dead_letter=True,
    )
    assert policy.max_attempts == DEFAULTS.default_retries + 1


def test_values_and_script_units() -> None:
    policy = parse_policy(
        module(TIMEOUT=2, RETRIES=0, BACKOFF=0.25, BACKOFF_MAX=10, DEAD_LETTER=False), DEFAULTS
    )
    assert (policy.timeout, policy.retries, policy.dead_letter) == (2.0, 0, False)
    assert (policy.max_attempts, policy.backoff_base_ms, policy.backoff_cap_ms) == (1, 250, 10_000)
    assert policy.to_report() == {
        "timeout": 2.0,
        "retries": 0,
        "backoff": 0.25,
        "backoff_max": 10.0,
        "dead_letter": False,
        "isolate": False,
        "memory_mb": None,
        "partitions": 1,
    }


@pytest.mark.parametrize(
    ("consts", "words"),
    [
        ({"TIMEOUT": "30"}, ["TIMEOUT", "str", "number of seconds"]),
        ({"TIMEOUT": True}, ["TIMEOUT", "bool"]),
        ({"TIMEOUT": 0}, ["TIMEOUT", "out of range"]),
        ({"TIMEOUT": float("nan")}, ["TIMEOUT", "out of range"]),
        ({"RETRIES": 1.5}, ["RETRIES", "whole number"]),
        ({"RETRIES": -1}, ["RETRIES", "out of range"]),
        ({"BACKOFF": -0.1}, ["BACKOFF", "out of range"]),
        ({"BACKOFF": 5, "BACKOFF_MAX": 1}, ["BACKOFF_MAX", "at least BACKOFF"]),
        ({"DEAD_LETTER": "yes"}, ["DEAD_LETTER", "True or False"]),
        ({"ISOLATE": 1}, ["ISOLATE", "int", "child process"]),
        ({"ISOLATE": True, "MEMORY_MB": 10}, ["MEMORY_MB", "out of range", "64"]),
        ({"ISOLATE": True, "MEMORY_MB": 1.5}, ["MEMORY_MB", "whole number"]),
        ({"MEMORY_MB": 256}, ["MEMORY_MB needs ISOLATE = True"]),
        ({"WORKERS": 0}, ["WORKERS", "out of range"]),
        ({"PARTITIONS": 0}, ["PARTITIONS", "out of range", "1 to 16"]),
        ({"PARTITIONS": 17}, ["PARTITIONS", "out of range", "1 to 16"]),
        ({"PARTITIONS": 2.0}, ["PARTITIONS", "whole number"]),
        ({"PARTITIONS": True}, ["PARTITIONS", "whole number"]),
    ],
)
def test_bad_values_say_what_to_fix(consts: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(module(**consts), DEFAULTS)
    for word in words:
        assert word in str(info.value)


def test_partitions_default_to_one_and_are_reported() -> None:
    assert parse_policy(module(), DEFAULTS).partitions == 1
    policy = parse_policy(module(PARTITIONS=3), DEFAULTS)
    assert policy.partitions == 3 and policy.to_report()["partitions"] == 3


def test_isolation_defaults_by_kind_and_setting() -> None:
    from dataclasses import replace

    assert parse_policy(module(), DEFAULTS, is_async=False).isolate is True
    assert parse_policy(module(), DEFAULTS, is_async=True).isolate is False
    off = replace(DEFAULTS, isolate_sync=False)
    assert parse_policy(module(), off, is_async=False).isolate is False
    policy = parse_policy(module(ISOLATE=True, MEMORY_MB=256, WORKERS=2), off, is_async=True)
    assert (policy.isolate, policy.memory_mb, policy.workers) == (True, 256, 2)
