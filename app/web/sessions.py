"""Page sessions: a signed cookie naming the user, and CSRF tokens bound to it.

The cookie (HttpOnly, SameSite=Lax, Secure in production) holds a signed claim set: a random
session id `sid`, and once signed in the user id `uid` and the user's token version `ver`.
Every page request reloads the user: an inactive user, or one whose token version moved
(a change of role, organisation, password or active state), is signed out at once. The
version is read with `token_version(user)`: the one hook account revocation needs.

CSRF: every form carries `csrf_token`, an HMAC of the session id; a POST without the right
one, or sent cross-site (Sec-Fetch-Site or Origin naming another site), is refused with 403.
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import jwt
from starlette.requests import Request
from starlette.responses import Response

from app.settings import Environment, Settings

COOKIE = "ta_session"
LIFETIME_S = 12 * 3600
_ALGORITHM = "HS256"
_AUDIENCE = "techauction-pages"


@dataclass(frozen=True, slots=True)
class PageSession:
    sid: str
    user_id: int | None = None
    version: int = 0
    fresh: bool = False  # made for this request: the response must set the cookie


def _key(settings: Settings) -> bytes:
    # A key of its own, derived from the JWT secret: a page cookie is never an API token.
    return hashlib.sha256(b"techauction-page-session\0" + settings.jwt_key().encode()).digest()


def new_session(user_id: int | None = None, version: int = 0) -> PageSession:
    """A session with a new random id (sign-in always makes a new one: no fixation)."""
    return PageSession(sid=secrets.token_urlsafe(18), user_id=user_id, version=version, fresh=True)


def read(request: Request, settings: Settings) -> PageSession | None:
    """The request's valid session cookie, or None."""
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 2048:
        return None
    try:
        claims = jwt.decode(raw, _key(settings), algorithms=[_ALGORITHM], audience=_AUDIENCE,
                            options={"require": ["sid", "exp"]})
        uid = claims.get("uid")
        return PageSession(sid=str(claims["sid"]), user_id=int(uid) if uid is not None else None,
                           version=int(claims.get("ver", 0)))
    except (jwt.PyJWTError, ValueError, TypeError):
        return None


def write(response: Response, session: PageSession, settings: Settings) -> None:
    """Set the session cookie on the response."""
    now = int(time.time())
    claims = {"sid": session.sid, "aud": _AUDIENCE, "iat": now, "exp": now + LIFETIME_S}
    if session.user_id is not None:
        claims |= {"uid": session.user_id, "ver": session.version}
    response.set_cookie(
        COOKIE, jwt.encode(claims, _key(settings), algorithm=_ALGORITHM), max_age=LIFETIME_S,
        httponly=True, samesite="lax", secure=settings.env is Environment.production, path="/",
    )


def token_version(user: object) -> int:
    """The user's token version, once accounts have one (0 until then): a change of it
    revokes every page session of the user."""
    return int(getattr(user, "token_version", 0) or 0)


def csrf_token(settings: Settings, session: PageSession) -> str:
    """The CSRF token of a session: an HMAC of its id."""
    return hmac.new(_key(settings), b"csrf\0" + session.sid.encode(), hashlib.sha256).hexdigest()


def cross_site(request: Request) -> bool:
    """The browser says the request comes from another site (or another origin posted it)."""
    if request.headers.get("sec-fetch-site", "") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        return origin.split("://", 1)[-1] != host
    return origin == "null"


def csrf_valid(request: Request, settings: Settings, session: PageSession | None,
               submitted: str | None) -> bool:
    """A POST's CSRF check: same site, and the session's own token."""
    if session is None or session.fresh or not submitted or cross_site(request):
        return False
    return hmac.compare_digest(submitted, csrf_token(settings, session))
