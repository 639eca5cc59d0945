"""Bearer tokens on the gateway's routes: 401 without a valid one, 403 when it may not.

With auth on, :func:`guarded` wraps each protected route's handler when the routes are
registered, so an open route (and every route while auth is off) runs its handler with no
extra call.  The guard reads ``Authorization: Bearer <token>`` (or the session cookie of
``POST /login``, with its CSRF token on a state-changing request: ``csrf.py``), finds it in the
:class:`Authenticator`'s current set (hashed, constant time: ``streamfn/tokens.py``), checks
its role against the route's entry in ``access.py`` and, for invocations, the function
against its pattern, then leaves the token on the request for the handlers that redact
(``redact.py``).
"""

from __future__ import annotations

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from streamfn.auth_plan import AuthPlan
from streamfn.errors import ErrorCode
from streamfn.gateway import csrf
from streamfn.gateway.access import Access
from streamfn.gateway.contract import Route
from streamfn.gateway.envelope import ApiError, show
from streamfn.names import is_function_name
from streamfn.settings import Settings
from streamfn.tokens import Role, Token, TokenSet

PRINCIPAL = web.RequestKey("principal", Token)
"""The token a request was authenticated with (absent while auth is off, and on open routes)."""
REALM = 'Bearer realm="streamfn"'
HOW = "send Authorization: Bearer <token> (docs/auth.md)"


class Authenticator:
    """The tokens accepted now; :meth:`replace` swaps them as a whole (a file re-read)."""

    def __init__(self, plan: AuthPlan) -> None:
        self.plan = plan
        self.tokens = plan.tokens

    def replace(self, tokens: TokenSet) -> None:
        self.tokens = tokens

    def authenticate(self, request: web.Request) -> tuple[Token, str | None]:
        """The request's token, and the credential when it came in the session cookie (which
        then needs its CSRF token); ApiError 401 when there is none or it is not valid."""
        header = request.headers.get(hdrs.AUTHORIZATION)
        cookie = None
        if header is not None:
            scheme, _, credential = header.strip().partition(" ")
            if scheme.lower() != "bearer" or not credential.strip():
                raise _unauthorized(f"Authorization must be 'Bearer <token>': {HOW}", REALM)
            credential = credential.strip()
        else:
            cookie = request.cookies.get(csrf.COOKIE)
            if not cookie:
                raise _unauthorized(f"this route needs a token: {HOW}", REALM)
            credential = cookie
        token = self.tokens.find(credential)
        if token is None:
            raise _unauthorized(
                "the token is not valid (unknown, revoked or mistyped)",
                REALM + ', error="invalid_token"',
            )
        return token, cookie


def _unauthorized(message: str, challenge: str) -> ApiError:
    return ApiError(ErrorCode.UNAUTHORIZED, message, headers={"WWW-Authenticate": challenge})


def handler_for(route: Route, access: Access, auth: Authenticator, settings: Settings) -> Handler:
    """``route``'s handler as it must be registered: guarded when auth is on and the route
    needs a role, else the handler itself."""
    role = access.required(settings)
    if not auth.plan.enforced or role is None:
        return route.handler
    return guarded(route, role, access.invokes, auth)


def guarded(route: Route, role: Role, invokes: str | None, auth: Authenticator) -> Handler:
    """``route.handler`` behind the token check for ``role`` (and the pattern of ``invokes``)."""
    inner = route.handler
    what = f"{route.method} {route.path}"

    async def handler(request: web.Request) -> web.StreamResponse:
        token, cookie = auth.authenticate(request)
        if cookie is not None:
            await csrf.check(request, cookie)
        if token.role < role:
            raise ApiError(
                ErrorCode.FORBIDDEN,
                f"token {token.name!r} has role {token.role.label}; {what} needs "
                f"{role.label} or above",
            )
        if invokes is not None:
            function = request.match_info[invokes]
            # A name that is no function name is the handler's 400 (it checks names first).
            if is_function_name(function) and not token.pattern.matches(function):
                raise ApiError(
                    ErrorCode.FORBIDDEN,
                    f"token {token.name!r} may invoke functions matching "
                    f"{token.pattern.text!r}, not {show(function)}",
                )
        request[PRINCIPAL] = token
        return await inner(request)

    handler.__doc__ = inner.__doc__
    return handler
