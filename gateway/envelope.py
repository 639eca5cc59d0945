"""Every error leaves the gateway as ``{"error": {"code", "message"}}``.

Handlers raise :class:`ApiError`; :func:`response_for` (called by the gateway's one
middleware, :mod:`streamfn.gateway.middleware`) turns that, aiohttp's own HTTP
errors (no route, wrong method, body too large), a full backlog (429 with Retry-After), an
unreachable Redis or one with no master (503 ``redis_unavailable``), replicas that did not
confirm an enqueue (503 ``replication_unconfirmed``) and anything unexpected (500, logged, no
traceback in the body) into that envelope.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aiohttp import web
from redis.exceptions import (
    BusyLoadingError,
    ClusterDownError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisClusterException,
    RedisError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from streamfn.errors import BacklogFull, ErrorCode, ReplicationUnconfirmed, StreamfnError
from streamfn.gateway.models import Error, ErrorDetail
from streamfn.gateway.responses import model_response

log = logging.getLogger("streamfn.gateway")

# Replies meaning "Redis is there but cannot serve now"; redis-py strips the prefix from the
# message of the classes it maps, so both the classes and the raw prefixes are checked.
_UNAVAILABLE_TYPES = (
    RedisConnectionError,
    RedisTimeoutError,
    BusyLoadingError,
    ReadOnlyError,
    ClusterDownError,
    RedisClusterException,  # no node serves a slot (failover under way), or none answers
    TryAgainError,  # a multi-key call on a slot being migrated: it did not run
    OutOfMemoryError,
)
_UNAVAILABLE_PREFIXES = (
    "LOADING",
    "MASTERDOWN",
    "READONLY",
    "CLUSTERDOWN",
    "TRYAGAIN",
    "OOM",
    "NOREPLICAS",
)
_HTTP_CODES = {
    400: ErrorCode.INVALID_PARAMETER,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
}


class ApiError(StreamfnError):
    """A client-facing error; ``extra`` fields (those of ``models.ErrorDetail``) join ``code``
    and ``message`` in the body; ``headers`` are sent with it (a 401's WWW-Authenticate)."""

    def __init__(
        self, code: ErrorCode, message: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(code, message)
        self.headers = headers
        self.extra = extra


def show(value: str, limit: int = 64) -> str:
    """A user-supplied string, quoted and cut short, safe to echo in a message."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + "..."


def error_response(
    code: ErrorCode, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> web.Response:
    """The JSON error envelope with the status that belongs to ``code``."""
    body = Error(error=ErrorDetail(code=code.code, message=message, **extra))
    return model_response(body, code.status, headers)


def is_redis_unavailable(exc: BaseException) -> bool:
    """True for errors meaning Redis cannot serve right now (down, loading, read-only).

    That includes Sentinel's: no Sentinel names a master (``MasterNotFoundError``) and a
    connection still on a demoted master (redis-py turns its ``READONLY`` into a
    ConnectionError and reconnects through the Sentinels on the next command).
    """
    if isinstance(exc, _UNAVAILABLE_TYPES):
        return True
    return isinstance(exc, ResponseError) and str(exc).startswith(_UNAVAILABLE_PREFIXES)


class _Throttle:
    """Logs a repeated warning at most once per ``period`` seconds (an outage is one event)."""

    def __init__(self, period: float) -> None:
        self.period = period
        self._last = -period

    def ready(self) -> bool:
        now = time.monotonic()
        if now - self._last < self.period:
            return False
        self._last = now
        return True


_redis_warning = _Throttle(5.0)


def response_for(request: web.Request, exc: Exception) -> web.StreamResponse:
    """The JSON envelope answering ``exc``, raised while handling ``request``."""
    if isinstance(exc, BacklogFull):
        return backlog_full(exc)
    if isinstance(exc, ReplicationUnconfirmed):
        return error_response(exc.code, exc.message, {"Retry-After": "1"})
    if isinstance(exc, StreamfnError):
        headers = getattr(exc, "headers", None)
        return error_response(exc.code, exc.message, headers, **getattr(exc, "extra", {}))
    if isinstance(exc, web.HTTPException):
        return _from_http_exception(request, exc)
    if isinstance(exc, RedisError):
        if not is_redis_unavailable(exc):
            log.error("Redis refused %s %s", request.method, request.path, exc_info=exc)
            return _internal()
        if _redis_warning.ready():
            log.warning("Redis unavailable: %s: %s", type(exc).__name__, exc)
        return error_response(
            ErrorCode.REDIS_UNAVAILABLE,
            "Redis is unreachable or not ready; retry shortly (an Idempotency-Key makes "
            "retrying an invocation safe)",
            {"Retry-After": "1"},
        )
    log.error("unexpected error in %s %s", request.method, request.path, exc_info=exc)
    return _internal()


BACKLOG_RETRY_AFTER_S = 1
"""Retry-After of a 429: a backlog at its cap drains at the runners' pace, which the gateway
does not know; a 429 costs one O(1) script call, so asking again each second is cheap."""


def backlog_full(exc: BacklogFull) -> web.Response:
    """The 429 for an invocation the backlog cap refused (nothing was enqueued)."""
    return error_response(
        exc.code,
        exc.message,
        {"Retry-After": str(BACKLOG_RETRY_AFTER_S)},
        function=exc.function,
        backlog=exc.backlog,
        cap=exc.cap,
    )


def _internal() -> web.Response:
    return error_response(ErrorCode.INTERNAL, "internal error; the gateway log has the details")


def _from_http_exception(request: web.Request, exc: web.HTTPException) -> web.StreamResponse:
    code = _HTTP_CODES.get(exc.status)
    if code is None:
        raise exc
    if code is ErrorCode.NOT_FOUND:
        message = f"no route for {request.method} {show(request.path, 200)}; GET /openapi.json"
        return error_response(code, message + " lists the API")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        message = f"{show(request.method)} is not allowed on this route; use {allowed}"
        return error_response(code, message, {"Allow": allowed})
    if code is ErrorCode.PAYLOAD_TOO_LARGE:
        detail = (exc.text or "").rstrip(".")
        return error_response(code, f"request body too large: {detail}; {_BODY_HINT}")
    return error_response(code, exc.text or exc.reason)


_BODY_HINT = "send a smaller payload, or raise STREAMFN_MAX_BODY"


def payload_too_large(length: int, limit: int) -> ApiError:
    """The 413 for a declared Content-Length over the limit (the body is not read)."""
    return ApiError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"request body of {length} bytes exceeds the limit of {limit} bytes; {_BODY_HINT}",
    )
