"""API tokens: the role ladder, the tokens file format, hashing, and the constant-time lookup.

A token is stored as the SHA-256 of its text, never the text itself: the gateway hashes each
request's credential and compares the digest with every stored one using
:func:`hmac.compare_digest`, with no early exit, so neither the comparison nor the position of
a match shows in the time taken.  Tokens are minted with 256 random bits, which is why an
unsalted hash is enough (a slow password hash protects guessable secrets, not random ones).

The file format (TOML, one line per token, ``name = { fields }``; ``docs/auth.md``)::

    ci = { role = "operator", sha256 = "9f86d0..." }
    mailer = { role = "invoker", sha256 = "...", pattern = "email*" }
    grafana = { role = "viewer", sha256 = "...", see_payloads = false }
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import tomllib
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 1024 * 1024
"""A tokens file larger than this is refused (it is read on the gateway's event loop)."""
MAX_CREDENTIAL = 256
"""A presented credential longer than this is refused without hashing it."""
TOKEN_PREFIX = "sfn_"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
SHA256_RE = re.compile(r"[0-9a-f]{64}")
GLOB_RE = re.compile(r"[a-z0-9_*?]{1,64}")
FIELDS = frozenset({"role", "sha256", "pattern", "see_payloads"})


class TokensError(ValueError):
    """A tokens file or ``STREAMFN_TOKENS`` value we cannot use; the message says where."""


class Role(IntEnum):
    """The role ladder: each role may do everything the roles below it may."""

    VIEWER = 1
    """read: functions, invocations, dead letters, schedules (data redacted unless allowed)"""
    INVOKER = 2
    """and invoke the functions its pattern matches"""
    OPERATOR = 3
    """and cancel, replay, pause and resume, and write schedules"""
    ADMIN = 4
    """and everything else (removing functions)"""

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, raw: str) -> Role:
        try:
            return cls[raw.upper()]
        except KeyError:
            names = ", ".join(r.label for r in cls)
            raise TokensError(f"unknown role {raw!r}; roles: {names}") from None


def see_payloads_default(role: Role) -> bool:
    """A viewer sees no payloads, results, errors or logs unless its token says so."""
    return role > Role.VIEWER


@dataclass(frozen=True, slots=True)
class FunctionPattern:
    """Globs over function names: ``*`` any run of name characters, ``?`` one; any of
    several comma-separated globs may match.  ``*`` alone matches every function."""

    text: str
    regex: re.Pattern[str] = field(compare=False, repr=False)

    def matches(self, function: str) -> bool:
        return self.regex.fullmatch(function) is not None

    @classmethod
    def parse(cls, raw: str) -> FunctionPattern:
        """``email*`` or ``email*,sms_?``; lower-case name characters, ``*`` and ``?`` only."""
        globs = [g.strip() for g in raw.split(",")]
        for glob in globs:
            if not GLOB_RE.fullmatch(glob):
                raise TokensError(
                    f"pattern {raw!r}: each comma-separated glob is 1-64 characters of "
                    "a-z, 0-9, '_', '*' (any run) and '?' (one character)"
                )
        return cls(",".join(globs), re.compile("|".join(map(_glob_re, globs))))


def _glob_re(glob: str) -> str:
    return "".join(
        "[a-z0-9_]*" if c == "*" else "[a-z0-9_]" if c == "?" else re.escape(c) for c in glob
    )


ANY_FUNCTION = FunctionPattern.parse("*")


@dataclass(frozen=True, slots=True)
class Token:
    """One configured token: who it is, what it may do, and the digest of its text."""

    name: str
    role: Role
    digest: bytes = field(repr=False)
    pattern: FunctionPattern = ANY_FUNCTION
    see_payloads: bool = False

    def may_invoke(self, function: str) -> bool:
        return self.role >= Role.INVOKER and self.pattern.matches(function)

    def sees_data(self, function: str) -> bool:
        """Payloads, results, errors and logs of ``function``'s invocations are shown."""
        return self.see_payloads and self.pattern.matches(function)


@dataclass(frozen=True, slots=True)
class TokenSet:
    """The tokens a gateway accepts; replaced as a whole when the file changes."""

    tokens: tuple[Token, ...] = ()

    def __len__(self) -> int:
        return len(self.tokens)

    def find(self, credential: str) -> Token | None:
        """The token whose text is ``credential``: compared with every one, in constant time."""
        if not 0 < len(credential) <= MAX_CREDENTIAL:
            return None
        digest = hashlib.sha256(credential.encode()).digest()
        found: Token | None = None
        for token in self.tokens:  # no early exit: the time does not depend on the match
            if hmac.compare_digest(digest, token.digest):
                found = token
        return found

    def merged(self, other: TokenSet, where: str) -> TokenSet:
        names = {t.name for t in self.tokens} & {t.name for t in other.tokens}
        if names:
            raise TokensError(f"{where}: token {sorted(names)[0]!r} is defined twice")
        return _checked(TokenSet(self.tokens + other.tokens), where)


def hash_token(token: str) -> str:
    """The hex SHA-256 a tokens file stores for ``token``."""
    return hashlib.sha256(token.encode()).hexdigest()


def mint_token() -> str:
    """A new token: the prefix and 256 random bits, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_line(
    name: str, role: Role, sha256: str, pattern: str = "*", see: bool | None = None
) -> str:
    """The tokens-file line of one token, as ``streamfn tokens new`` prints it."""
    fields = [f'role = "{role.label}"', f'sha256 = "{sha256}"']
    if pattern != "*":
        fields.append(f'pattern = "{pattern}"')
    if see is not None and see != see_payloads_default(role):
        fields.append(f"see_payloads = {'true' if see else 'false'}")
    return f"{name} = {{ {', '.join(fields)} }}"


def parse_tokens(text: str, where: str) -> TokenSet:
    """The tokens of a TOML document of ``name = { fields }``; ``where`` names its source."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TokensError(f"{where}: not valid TOML: {exc}") from None
    return _checked(TokenSet(tuple(_token(name, v, where) for name, v in document.items())), where)


def parse_env_tokens(raw: str) -> TokenSet:
    """``STREAMFN_TOKENS``: the file's lines, separated by newlines or ';'."""
    lines = "\n".join(part.strip() for part in raw.replace(";", "\n").splitlines())
    return parse_tokens(lines, "STREAMFN_TOKENS")


def read_tokens_file(path: Path) -> TokenSet:
    """The tokens of ``path``; TokensError when it cannot be read or is invalid."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise TokensError(f"tokens file {str(path)!r}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise TokensError(f"tokens file {str(path)!r} is over {MAX_FILE_BYTES} bytes")
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise TokensError(f"tokens file {str(path)!r} is not UTF-8") from None
    return parse_tokens(text, f"tokens file {str(path)!r}")


def _token(name: str, value: Any, where: str) -> Token:
    at = f"{where}, token {name!r}"
    if not NAME_RE.fullmatch(name):
        raise TokensError(f"{at}: a name is 1-64 characters of letters, digits, '_', '.', '-'")
    if not isinstance(value, dict):
        raise TokensError(f'{at}: must be a table like {{ role = "viewer", sha256 = "..." }}')
    unknown = set(value) - FIELDS
    if unknown:
        raise TokensError(f"{at}: unknown field {sorted(unknown)[0]!r}; fields: {sorted(FIELDS)}")
    try:
        role = Role.parse(_string(value, "role"))
        sha256 = _string(value, "sha256")
        if not SHA256_RE.fullmatch(sha256):
            raise TokensError("sha256 must be 64 lower-case hex digits (streamfn tokens new)")
        pattern = FunctionPattern.parse(_string(value, "pattern", "*"))
        see = value.get("see_payloads", see_payloads_default(role))
        if not isinstance(see, bool):
            raise TokensError("see_payloads must be true or false")
    except TokensError as exc:
        raise TokensError(f"{at}: {exc}") from None
    return Token(name, role, bytes.fromhex(sha256), pattern, see)


def _string(value: dict[str, Any], key: str, default: str | None = None) -> str:
    raw = value.get(key, default)
    if raw is None:
        raise TokensError(f"{key} is required")
    if not isinstance(raw, str):
        raise TokensError(f"{key} must be a string")
    return raw


def _checked(tokens: TokenSet, where: str) -> TokenSet:
    digests = [t.digest for t in tokens.tokens]
    if len(set(digests)) != len(digests):
        raise TokensError(f"{where}: two tokens have the same sha256 (one token, two names)")
    return tokens
