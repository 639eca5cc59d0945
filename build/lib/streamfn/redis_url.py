"""Redis URLs: the ``redis+sentinel://`` form, and hiding passwords in any form.

``redis://``, ``rediss://`` and ``unix://`` URLs are redis-py's own (``Redis.from_url``).
redis-py can talk to Sentinel (``redis.asyncio.sentinel.Sentinel``) but reads no URL for it,
so this module is the one reader of that form::

    redis+sentinel://[user:password@]host1[:port1][,host2[:port2]...]/<service>[/<db>][?options]
    rediss+sentinel://...   TLS to the master and replicas

* ``user:password`` log in to the master and replicas (percent-encode ``@ : / ,``).
* A host without a port uses 26379; an IPv6 host is written in brackets (``[::1]:26379``).
* ``<service>`` is the name the Sentinels monitor (``sentinel monitor <service> ...``);
  ``<db>`` the database number, 0 when left out.
* Options: ``sentinel_username`` / ``sentinel_password`` (the Sentinels' own login, when
  they have ``requirepass`` or ACLs; by default Sentinels are asked without one),
  ``sentinel_tls`` (``true``: reach the Sentinels over TLS too), and for ``rediss+sentinel``
  ``ssl_ca_certs`` (a CA bundle path) and ``ssl_cert_reqs`` (``required``, the default,
  ``optional`` or ``none``).

:func:`parse_sentinel_url` raises ValueError with a message saying what is wrong, which the
settings turn into a startup error naming ``STREAMFN_REDIS_URL``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

SCHEMES = ("redis+sentinel", "rediss+sentinel")
DEFAULT_PORT = 26379
FORM = "redis+sentinel://[user:password@]host[:port][,host[:port]...]/<service>[/<db>]"
_OPTIONS = frozenset(
    {"sentinel_username", "sentinel_password", "sentinel_tls", "ssl_ca_certs", "ssl_cert_reqs"}
)
_CERT_REQS = ("required", "optional", "none")
_SERVICE_RE = re.compile(r"[A-Za-z0-9._-]{1,128}")
_HOST_RE = re.compile(
    r"\[(?P<v6>[0-9A-Fa-f:.]+)\](?::(?P<p6>[^:]*))?|(?P<host>[^:\[\]]+)(?::(?P<port>.*))?"
)


@dataclass(frozen=True, slots=True)
class SentinelUrl:
    """A parsed ``redis+sentinel://`` URL."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    tls: bool = False
    sentinel_username: str | None = None
    sentinel_password: str | None = None
    sentinel_tls: bool = False
    ssl_ca_certs: str | None = None
    ssl_cert_reqs: str = "required"

    def node_kwargs(self) -> dict[str, Any]:
        """Connection arguments for the master (and replicas): database, login, TLS."""
        kwargs: dict[str, Any] = {"db": self.db}
        if self.username is not None:
            kwargs["username"] = self.username
        if self.password is not None:
            kwargs["password"] = self.password
        if self.tls:
            kwargs.update(self._tls())
        return kwargs

    def sentinel_kwargs(self) -> dict[str, Any]:
        """Connection arguments for the Sentinels themselves."""
        kwargs: dict[str, Any] = {}
        if self.sentinel_username is not None:
            kwargs["username"] = self.sentinel_username
        if self.sentinel_password is not None:
            kwargs["password"] = self.sentinel_password
        if self.sentinel_tls:
            kwargs.update(self._tls())
        return kwargs

    def _tls(self) -> dict[str, Any]:
        tls: dict[str, Any] = {"ssl": True, "ssl_cert_reqs": self.ssl_cert_reqs}
        if self.ssl_ca_certs is not None:
            tls["ssl_ca_certs"] = self.ssl_ca_certs
        return tls


def is_sentinel_url(url: str) -> bool:
    """True for ``redis+sentinel://`` and ``rediss+sentinel://`` URLs."""
    return url.split("://", 1)[0].lower() in SCHEMES if "://" in url else False


def parse_sentinel_url(url: str) -> SentinelUrl:
    """The Sentinels, service, database and logins ``url`` names; ValueError if malformed."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise ValueError("a Sentinel URL starts with redis+sentinel:// or rediss+sentinel://")
    netloc, _, tail = rest.partition("/")
    path, _, query = tail.partition("?")
    path = path.split("#", 1)[0]
    userinfo, at, hostlist = netloc.rpartition("@")
    username, password = _login(userinfo) if at else (None, None)
    sentinels = tuple(_host(h) for h in hostlist.split(","))
    service, db = _path(path)
    options = _options(query)
    tls = scheme.lower() == "rediss+sentinel"
    if (
        not tls
        and ({"ssl_ca_certs", "ssl_cert_reqs"} & options.keys())
        and not _flag(options.get("sentinel_tls"))
    ):
        raise ValueError("ssl_ca_certs and ssl_cert_reqs need rediss+sentinel:// or sentinel_tls")
    return SentinelUrl(
        sentinels=sentinels,
        service=service,
        db=db,
        username=username,
        password=password,
        tls=tls,
        sentinel_username=options.get("sentinel_username"),
        sentinel_password=options.get("sentinel_password"),
        sentinel_tls=_flag(options.get("sentinel_tls")),
        ssl_ca_certs=options.get("ssl_ca_certs"),
        ssl_cert_reqs=options.get("ssl_cert_reqs", "required"),
    )


def _login(userinfo: str) -> tuple[str | None, str | None]:
    user, colon, password = userinfo.partition(":")
    return (unquote(user) or None), (unquote(password) if colon else None)


def _host(raw: str) -> tuple[str, int]:
    match = _HOST_RE.fullmatch(raw.strip())
    if not raw.strip() or match is None:
        raise ValueError(f"no Sentinel host in {raw!r}; the form is {FORM}")
    host = match["v6"] or match["host"]
    port_text = match["p6"] if match["v6"] else match["port"]
    if port_text is None:
        return host, DEFAULT_PORT
    if not port_text.isdigit() or not 0 < int(port_text) <= 65535:
        raise ValueError(f"Sentinel port {port_text!r} of {host} is not a port (1-65535)")
    return host, int(port_text)


def _path(path: str) -> tuple[str, int]:
    parts = path.rstrip("/").split("/") if path.rstrip("/") else []
    if not parts:
        raise ValueError(f"the URL names no service (the master's Sentinel name); use {FORM}")
    if len(parts) > 2:
        raise ValueError(f"too many path parts in /{path}; use /<service>/<db>")
    service = unquote(parts[0])
    if not _SERVICE_RE.fullmatch(service):
        raise ValueError(f"service name {service!r}: use letters, digits, '.', '_' or '-'")
    db_text = parts[1] if len(parts) == 2 else "0"
    if not db_text.isdigit():
        raise ValueError(f"database {db_text!r} is not a number (the /<db> after the service)")
    return service, int(db_text)


def _options(query: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in _OPTIONS:
            raise ValueError(
                f"unknown Sentinel URL option {name!r}; known: {', '.join(sorted(_OPTIONS))}"
            )
        options[name] = value
    reqs = options.get("ssl_cert_reqs")
    if reqs is not None and reqs not in _CERT_REQS:
        raise ValueError(f"ssl_cert_reqs={reqs!r}: use one of {', '.join(_CERT_REQS)}")
    if "sentinel_tls" in options:
        _flag(options["sentinel_tls"])
    return options


def _flag(raw: str | None) -> bool:
    if raw is None:
        return False
    value = raw.lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"sentinel_tls={raw!r}: use true or false")


_SECRET_OPTIONS = ("password", "sentinel_password")


def redact(url: str) -> str:
    """``url`` without its passwords, for banners and error messages."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(name in _SECRET_OPTIONS for name, _ in pairs):
        masked = [(n, "***" if n in _SECRET_OPTIONS else v) for n, v in pairs]
        query = urlencode(masked, safe="*/")
    return urlunsplit(parts._replace(netloc=netloc, query=query))
