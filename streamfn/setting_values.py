"""The parsers of setting values: each turns one raw ``STREAMFN_*`` string into its type, or
raises ValueError saying what the variable accepts (:class:`streamfn.settings.Settings` adds
the variable's name)."""

from __future__ import annotations

from streamfn.keys import MAX_SHARDS, is_shard_count
from streamfn.names import NAMESPACE_RE
from streamfn.redis_url import is_sentinel_url, parse_sentinel_url
from streamfn.tokens import parse_env_tokens

CLUSTER_MODES = ("auto", "on", "off")
AUTH_MODES = ("auto", "tokens", "open")


def positive_float(raw: str) -> float:
    value = number(raw)
    if not value > 0:
        raise ValueError("must be a number greater than 0")
    return value


def non_negative_float(raw: str) -> float:
    value = number(raw)
    if value < 0:
        raise ValueError("must be a number >= 0")
    return value


def integer(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError("must be a whole number") from None


def number(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("must be a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("must be a finite number")
    return value


def non_negative_int(raw: str) -> int:
    value = integer(raw)
    if value < 0:
        raise ValueError("must be a whole number >= 0")
    return value


def positive_int(raw: str) -> int:
    value = integer(raw)
    if value < 1:
        raise ValueError("must be a whole number >= 1")
    return value


def boolean(raw: str) -> bool:
    value = raw.lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be true or false (also accepted: 1/0, yes/no, on/off)")


def port(raw: str) -> int:
    value = integer(raw)
    if not 0 <= value <= 65535:
        raise ValueError("must be a port number from 0 to 65535")
    return value


def namespace(raw: str) -> str:
    if not NAMESPACE_RE.fullmatch(raw):
        raise ValueError("must be 1-32 characters of letters, digits, '_' or '-'")
    return raw


def redis_url(raw: str) -> str:
    if is_sentinel_url(raw):
        parse_sentinel_url(raw)  # a ValueError says what is wrong with it
        return raw
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(
            "must start with redis://, rediss://, unix://, redis+sentinel:// or rediss+sentinel://"
        )
    return raw


def shards(raw: str) -> int:
    value = integer(raw)
    if not is_shard_count(value):
        raise ValueError(f"must be a power of two from 1 to {MAX_SHARDS}")
    return value


def cluster_mode(raw: str) -> str:
    mode = raw.lower()
    if mode not in CLUSTER_MODES:
        raise ValueError("must be auto, on or off")
    return mode


def wait_timeout_ms(raw: str) -> int:
    value = integer(raw)
    if not 1 <= value <= 60000:  # WAIT 0 would block forever
        raise ValueError("must be a whole number of milliseconds from 1 to 60000")
    return value


def log_level(raw: str) -> str:
    level = raw.upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
    return level


def auth_mode(raw: str) -> str:
    mode = raw.lower()
    if mode not in AUTH_MODES:
        raise ValueError("must be auto, tokens or open")
    return mode


def token_lines(raw: str) -> str:
    """Checked here (a TokensError is a ValueError naming what is wrong), kept as text."""
    parse_env_tokens(raw)
    return raw
