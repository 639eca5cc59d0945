"""HTTP probes that tell a gateway we started is ready: stdlib urllib, no proxies."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import PurePath

from streamfn import codec


def get(url: str) -> bytes | None:
    """The body of a 200 answer, else None."""
    # No proxies: an HTTP_PROXY in the environment must not swallow a loopback request.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=1.0) as response:
            body: bytes = response.read()
            return body if int(response.status) == 200 else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


def healthy(url: str) -> bool:
    """True if ``url`` (a ``/healthz``) answers 200."""
    return get(url) is not None


@dataclass(frozen=True, slots=True)
class Served:
    """What the gateway's ``GET /functions`` says it can serve now."""

    runners: int = 0
    functions: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    """Stems of the files that failed to load."""


def served(url: str) -> Served:
    """The gateway's ``GET /functions`` at ``url`` as :class:`Served` (empty: cannot say)."""
    return parse_served(get(url))


def parse_served(body: bytes | None) -> Served:
    """A ``GET /functions`` body as :class:`Served`; empty when there is none or it is not one."""
    try:
        doc = codec.loads(body) if body is not None else {}
        count = doc.get("runners", 0)
        names = tuple(str(f["name"]) for f in doc.get("functions", []))
        failed = tuple(PurePath(str(file)).stem for file in doc.get("errors", {}))
    except (codec.JSONDecodeError, KeyError, TypeError, AttributeError):
        return Served()
    return Served(count if isinstance(count, int) else 0, names, failed)


def runners(url: str) -> int:
    """How many runners the gateway's ``GET /functions`` counts (0 if it cannot say)."""
    return served(url).runners
