"""The session cookie's name and its CSRF token, shared by the guard and the login routes.

A session is the token itself in an ``HttpOnly``, ``SameSite=Strict`` cookie, so revoking or
rotating the token ends the session at once and every gateway accepts it (no session store).
A browser sends cookies on its own, so a state-changing request authenticated by the cookie
must also carry the session's CSRF token, which a page of another site cannot know: an HMAC
of the fixed text ``streamfn-csrf`` keyed with the token.  A request with an
``Authorization`` header needs none: no browser adds that header by itself.
"""

from __future__ import annotations

import hashlib
import hmac

from aiohttp import web

from streamfn.errors import ErrorCode
from streamfn.gateway.envelope import ApiError

COOKIE = "streamfn_session"
HEADER = "X-CSRF-Token"
FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORMS = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def csrf_token(credential: str) -> str:
    """The CSRF token of the session whose cookie holds ``credential``."""
    return hmac.new(credential.encode(), b"streamfn-csrf", hashlib.sha256).hexdigest()


async def check(request: web.Request, credential: str) -> None:
    """403 unless a state-changing request carries the session's CSRF token (header, or the
    ``csrf`` field of a form post)."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(HEADER)
    if sent is None and request.content_type in FORMS:
        value = (await request.post()).get(FIELD)
        sent = value if isinstance(value, str) else None
    expected = csrf_token(credential)
    if sent is None or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise ApiError(
            ErrorCode.FORBIDDEN,
            f"a {request.method} with the session cookie must carry the session's CSRF token "
            f"(the {HEADER} header, or a form's {FIELD} field; POST /login returns it)",
        )
