"""Settings.from_env: defaults, every variable, bad values and typos."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from streamfn.settings import DEFAULTS, Settings, SettingsError

TOKEN_LINE = 'ci = { role = "viewer", sha256 = "%s" }' % ("a" * 64)

# One valid, non-default raw value per variable, and the value it must parse to.
VALID: dict[str, tuple[str, object]] = {
    "STREAMFN_REDIS_URL": ("redis://10.0.0.5:6380/2", "redis://10.0.0.5:6380/2"),
    "STREAMFN_NAMESPACE": ("team-a_1", "team-a_1"),
    "STREAMFN_REDIS_CLUSTER": ("ON", "on"),
    "STREAMFN_SHARDS": ("64", 64),
    "STREAMFN_FUNCTIONS_DIR": ("/srv/fns", Path("/srv/fns")),
    "STREAMFN_HOST": ("0.0.0.0", "0.0.0.0"),
    "STREAMFN_PORT": ("9000", 9000),
    "STREAMFN_AUTH": ("OPEN", "open"),
    "STREAMFN_TOKENS_FILE": ("/etc/streamfn/tokens.toml", "/etc/streamfn/tokens.toml"),
    "STREAMFN_TOKENS": (TOKEN_LINE, TOKEN_LINE),
    "STREAMFN_METRICS_AUTH": ("yes", True),
    "STREAMFN_VISIBILITY_TIMEOUT": ("12.5", 12.5),
    "STREAMFN_CLAIM_INTERVAL": ("0.2", 0.2),
    "STREAMFN_CONSUMER_IDLE_LIMIT": ("90", 90.0),
    "STREAMFN_RESULT_TTL": ("60", 60.0),
    "STREAMFN_DEAD_TTL": ("120", 120.0),
    "STREAMFN_DEAD_MAXLEN": ("50", 50),
    "STREAMFN_IDEMPOTENCY_TTL": ("30", 30.0),
    "STREAMFN_DEPLOYED_RETENTION": ("3600", 3600.0),
    "STREAMFN_MAX_BODY": ("2048", 2048),
    "STREAMFN_MAX_RESULT": ("4096", 4096),
    "STREAMFN_LOG_MAX_BYTES": ("0", 0),
    "STREAMFN_MAX_WAIT": ("10", 10.0),
    "STREAMFN_MAX_BACKLOG": ("500", 500),
    "STREAMFN_DURABLE_REPLICAS": ("1", 1),
    "STREAMFN_DURABLE_TIMEOUT_MS": ("250", 250),
    "STREAMFN_CONCURRENCY": ("7", 7),
    "STREAMFN_MAX_DELIVERIES": ("3", 3),
    "STREAMFN_SHUTDOWN_GRACE": ("4", 4.0),
    "STREAMFN_PROMOTE_INTERVAL": ("0.5", 0.5),
    "STREAMFN_DEFAULT_TIMEOUT": ("5", 5.0),
    "STREAMFN_DEFAULT_RETRIES": ("0", 0),
    "STREAMFN_ISOLATE_SYNC": ("no", False),
    "STREAMFN_RUNNER_METRICS_PORT": ("0", 0),
    "STREAMFN_LOG_LEVEL": ("debug", "DEBUG"),
}

# One unusable value per variable that has a rule (free-form strings have none).
INVALID: dict[str, str] = {
    "STREAMFN_REDIS_URL": "localhost:6379",
    "STREAMFN_NAMESPACE": "has space",
    "STREAMFN_REDIS_CLUSTER": "maybe",
    "STREAMFN_SHARDS": "12",
    "STREAMFN_PORT": "70000",
    "STREAMFN_AUTH": "off",
    "STREAMFN_TOKENS": 'ci = { role = "root", sha256 = "x" }',
    "STREAMFN_METRICS_AUTH": "maybe",
    "STREAMFN_VISIBILITY_TIMEOUT": "0",
    "STREAMFN_CLAIM_INTERVAL": "-1",
    "STREAMFN_CONSUMER_IDLE_LIMIT": "0",
    "STREAMFN_RESULT_TTL": "soon",
    "STREAMFN_DEAD_TTL": "0",
    "STREAMFN_DEAD_MAXLEN": "0",
    "STREAMFN_IDEMPOTENCY_TTL": "nan",
    "STREAMFN_DEPLOYED_RETENTION": "-1",
    "STREAMFN_MAX_BODY": "1.5",
    "STREAMFN_MAX_RESULT": "0",
    "STREAMFN_LOG_MAX_BYTES": "-1",
    "STREAMFN_MAX_WAIT": "-3",
    "STREAMFN_MAX_BACKLOG": "-1",
    "STREAMFN_DURABLE_REPLICAS": "-1",
    "STREAMFN_DURABLE_TIMEOUT_MS": "0",
    "STREAMFN_CONCURRENCY": "0",
    "STREAMFN_MAX_DELIVERIES": "many",
    "STREAMFN_SHUTDOWN_GRACE": "0",
    "STREAMFN_PROMOTE_INTERVAL": "x",
    "STREAMFN_DEFAULT_TIMEOUT": "-5",
    "STREAMFN_DEFAULT_RETRIES": "-1",
    "STREAMFN_ISOLATE_SYNC": "maybe",
    "STREAMFN_RUNNER_METRICS_PORT": "port",
    "STREAMFN_LOG_LEVEL": "LOUD",
}


def _field_for(env: str) -> str:
    return next(f.name for f in fields(Settings) if f.metadata["env"] == env)


def test_empty_environment_gives_the_defaults() -> None:
    assert Settings.from_env({}) == DEFAULTS
    assert DEFAULTS.redis_url == "redis://127.0.0.1:6379/0"
    assert DEFAULTS.host == "127.0.0.1"  # loopback unless asked otherwise
    assert DEFAULTS.port == 8080


def test_the_tables_here_cover_every_setting() -> None:
    known = {f.metadata["env"] for f in fields(Settings)}
    assert set(VALID) == known
    assert set(INVALID) <= known


@pytest.mark.parametrize("env", sorted(VALID))
def test_every_variable_is_parsed(env: str) -> None:
    raw, expected = VALID[env]
    settings = Settings.from_env({env: raw})
    assert getattr(settings, _field_for(env)) == expected
    assert expected != getattr(DEFAULTS, _field_for(env))


def test_all_variables_at_once() -> None:
    settings = Settings.from_env({env: raw for env, (raw, _) in VALID.items()})
    for env, (_, expected) in VALID.items():
        assert getattr(settings, _field_for(env)) == expected


@pytest.mark.parametrize("env", sorted(INVALID))
def test_a_bad_value_names_the_variable(env: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({env: INVALID[env]})
    assert env in str(caught.value)
    assert repr(INVALID[env]) in str(caught.value)


def test_empty_value_means_default_and_whitespace_is_stripped() -> None:
    settings = Settings.from_env({"STREAMFN_PORT": "", "STREAMFN_CONCURRENCY": " 12 "})
    assert settings.port == DEFAULTS.port
    assert settings.concurrency == 12


def test_an_unknown_streamfn_variable_is_rejected() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"STREAMFN_REDIS_ULR": "redis://127.0.0.1:6379/0"})
    message = str(caught.value)
    assert "STREAMFN_REDIS_ULR" in message
    assert "STREAMFN_REDIS_URL" in message  # the list of known names shows the right spelling


def test_other_variables_and_tooling_variables_are_ignored() -> None:
    env = {"PATH": "/bin", "STREAMFN_TEST_REDIS_URL": "redis://127.0.0.1:1/0"}
    assert Settings.from_env(env) == DEFAULTS


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        DEFAULTS.port = 1  # type: ignore[misc]


def test_heartbeat_is_a_third_of_the_visibility_timeout() -> None:
    assert Settings.from_env({"STREAMFN_VISIBILITY_TIMEOUT": "9"}).heartbeat_interval == 3.0


def test_table_lists_every_variable_with_its_default() -> None:
    rows = Settings.table()
    assert [r[0] for r in rows] == [f.metadata["env"] for f in fields(Settings)]
    by_env = {env: (default, doc) for env, default, doc in rows}
    assert by_env["STREAMFN_PORT"][0] == "8080"
    assert all(doc for _, doc in by_env.values())
