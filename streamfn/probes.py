"""HTTP probes ``streamfn dev`` uses to know the gateway is ready: stdlib urllib, no proxies."""

from __future__ import annotations

import urllib.error
import urllib.request

from streamfn import codec


def reachable(host: str) -> str:
    """The address to reach a server bound to ``host`` from this machine."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


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


def runners(url: str) -> int:
    """How many runners the gateway's ``GET /functions`` counts (0 if it cannot say)."""
    body = get(url)
    try:
        count = codec.loads(body)["runners"] if body is not None else 0
    except (codec.JSONDecodeError, KeyError, TypeError):
        return 0
    return count if isinstance(count, int) else 0
