"""``POST /login`` and ``POST /logout``: a browser session for the dashboard.

Logging in checks a token like the bearer path does and puts it in the ``streamfn_session``
cookie: ``HttpOnly`` (no script reads it), ``SameSite=Strict`` (no other site's page sends
it), ``Path=/``, ``Secure`` when the request came over HTTPS (directly, or as a proxy's
``X-Forwarded-Proto: https`` says), for 12 hours.  The answer carries the session's CSRF
token (``csrf.py``), which every state-changing request made with the cookie must send.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import msgspec
from aiohttp import web

from streamfn.errors import ErrorCode
from streamfn.gateway import csrf, params
from streamfn.gateway.envelope import ApiError, show
from streamfn.gateway.models import NoQuery
from streamfn.gateway.responses import model_response
from streamfn.gateway.session_models import LoggedIn, LoggedOut, LoginBody
from streamfn.gateway.state import AUTH, SETTINGS

MAX_AGE_S = 12 * 3600
"""How long a browser keeps the session cookie; revoking the token ends it sooner."""
_decode = msgspec.json.Decoder(LoginBody).decode


async def _credential(request: web.Request) -> str:
    """The token of a JSON body ``{"token": ...}`` or of a form field ``token``."""
    if request.content_type in csrf.FORMS:
        value = (await request.post()).get("token")
        if isinstance(value, str) and 0 < len(value) <= 256:
            return value
        raise ApiError(ErrorCode.INVALID_PARAMETER, "the form needs a token field")
    try:
        return _decode(await request.read()).token
    except msgspec.DecodeError as exc:
        raise ApiError(
            ErrorCode.INVALID_PARAMETER, f'send {{"token": "<token>"}} as JSON ({exc})'
        ) from None


def _same_origin(request: web.Request) -> None:
    """403 for a login posted by another site's page (login CSRF): a browser names the page's
    origin in ``Origin``; clients that send none (curl, scripts) are not browsers."""
    origin = request.headers.get("Origin")
    if origin is None:
        return
    ours = {request.host, request.headers.get("X-Forwarded-Host", request.host)}
    if urlsplit(origin).netloc not in ours:
        raise ApiError(
            ErrorCode.FORBIDDEN,
            f"a login from another site's page ({show(origin)}) is refused; log in from this "
            "gateway's own pages",
        )


def _set_cookie(response: web.Response, request: web.Request, value: str, max_age: int) -> None:
    secure = request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
    response.set_cookie(
        csrf.COOKIE,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=secure,
    )


async def login(request: web.Request) -> web.Response:
    """Check a token and start a browser session with it: the ``streamfn_session`` cookie
    (HttpOnly, SameSite=Strict) and the CSRF token its state-changing requests must send."""
    params.query(request, NoQuery, request.app[SETTINGS])
    auth = request.app[AUTH]
    if not auth.plan.enforced:
        raise ApiError(ErrorCode.CONFLICT, "auth is off on this gateway: no login is needed")
    _same_origin(request)
    credential = await _credential(request)
    token = auth.tokens.find(credential)
    if token is None:
        raise ApiError(
            ErrorCode.UNAUTHORIZED,
            "the token is not valid (unknown, revoked or mistyped)",
            headers={"WWW-Authenticate": 'Bearer realm="streamfn", error="invalid_token"'},
        )
    body = LoggedIn(name=token.name, role=token.role.label, csrf=csrf.csrf_token(credential))
    response = model_response(body)
    _set_cookie(response, request, credential, MAX_AGE_S)
    return response


async def logout(request: web.Request) -> web.Response:
    """End the browser session: the cookie is cleared (the token itself stays valid)."""
    params.query(request, NoQuery, request.app[SETTINGS])
    response = model_response(LoggedOut(status="logged_out"))
    _set_cookie(response, request, "", 0)
    return response
