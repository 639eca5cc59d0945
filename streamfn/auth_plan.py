"""Whether the gateway checks tokens, decided once at start from its settings and bind address.

``STREAMFN_AUTH=auto`` (the default) checks tokens when any are configured
(``STREAMFN_TOKENS_FILE`` or ``STREAMFN_TOKENS``); with none it runs without auth only on a
loopback address, and refuses to start on any other.  ``tokens`` always requires them;
``open`` never checks, with a warning when the address is not loopback.  A refusal is an
:class:`AuthRefused`, a :class:`~streamfn.settings.SettingsError`: ``streamfn gateway`` prints
it on one line and exits 2.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from streamfn.settings import Settings, SettingsError
from streamfn.tokens import TokensError, TokenSet, parse_env_tokens, read_tokens_file

HOW_TO = (
    "create tokens with `streamfn tokens new --role admin --name me >> tokens.toml` and set "
    "STREAMFN_TOKENS_FILE=tokens.toml, or set STREAMFN_AUTH=open to run without auth "
    "(docs/auth.md)"
)


NO_TOKENS = TokenSet()


class AuthRefused(SettingsError):
    """The gateway must not start with these settings (no tokens off loopback, a bad file)."""


@dataclass(frozen=True, slots=True)
class AuthPlan:
    """``enforced``: every route but the open ones needs a token.  ``tokens`` are those known
    at start (file and environment); ``fixed`` the environment's, which the file's join
    each time the file is re-read.  ``warning``: to log at start."""

    enforced: bool
    tokens: TokenSet = NO_TOKENS
    fixed: TokenSet = NO_TOKENS
    file: Path | None = None
    warning: str | None = None


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach; a host name other than ``localhost``
    counts as reachable from elsewhere (it may resolve to anything)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def plan_auth(settings: Settings) -> AuthPlan:
    """The decision for a gateway bound to ``settings.host``; AuthRefused if it must not start."""
    loopback = is_loopback(settings.host)
    if settings.auth == "open":
        if loopback:
            return AuthPlan(enforced=False)
        return AuthPlan(
            enforced=False,
            warning=f"STREAMFN_AUTH=open: the gateway on {settings.host} checks no tokens; "
            "anyone who can reach it may invoke, cancel and remove functions",
        )
    fixed, file, tokens = _configured(settings)
    configured = file is not None or len(fixed) > 0
    if not configured and settings.auth == "auto" and loopback:
        return AuthPlan(enforced=False)
    if not configured:
        where = "STREAMFN_AUTH=tokens" if settings.auth == "tokens" else f"on {settings.host}"
        raise AuthRefused(
            f"the gateway will not start {where} without tokens (only a loopback bind runs "
            f"without auth by default): {HOW_TO}"
        )
    if len(tokens) == 0:
        raise AuthRefused(f"STREAMFN_TOKENS_FILE={str(file)!r} holds no tokens: {HOW_TO}")
    return AuthPlan(enforced=True, tokens=tokens, fixed=fixed, file=file)


def _configured(settings: Settings) -> tuple[TokenSet, Path | None, TokenSet]:
    try:
        fixed = parse_env_tokens(settings.tokens) if settings.tokens else TokenSet()
        if not settings.tokens_file:
            return fixed, None, fixed
        file = Path(settings.tokens_file)
        tokens = fixed.merged(read_tokens_file(file), "STREAMFN_TOKENS and STREAMFN_TOKENS_FILE")
    except TokensError as exc:
        raise AuthRefused(str(exc)) from None
    return fixed, file, tokens
