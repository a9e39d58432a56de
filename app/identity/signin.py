"""Sign-in attempts, limited per email and per client address.

Failures are counted per (email, client address) and per client address, within one window:
an attacker elsewhere who tries an account's passwords exhausts his own address's counters,
never the owner's, so the owner's correct password still signs in. A correct password does not
count (its reservation is given back); a refusal counts nothing either. Both counters of an
attempt share one Redis hash slot (tagged by the address), reserved in one atomic step."""

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request

from app.errors import AppError
from app.identity.models import User
from app.identity.schemas import Token
from app.ratelimit import RateLimiter
from app.security import issue_token
from app.settings import Settings

WINDOW_SECONDS = 60
# The answers that mean "wrong password": sign-in's, and a password change's current password.
FAILURES = frozenset({"invalid_credentials", "wrong_password"})


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def client_address(request: Request) -> str:
    """The caller's address (uvicorn resolves X-Forwarded-For from trusted proxies)."""
    return request.client.host if request.client else "unknown"


@asynccontextmanager
async def attempt(
    *, limiter: RateLimiter, settings: Settings, email: str, address: str
) -> AsyncIterator[None]:
    """Guard one password check: 429 before it when a counter is at its limit; the attempt
    counts only if the block fails with a wrong-password error (FAILURES)."""
    tag = "{" + _digest(address) + "}"
    keys = {
        limiter.key("login", f"{tag}:address"): settings.login_attempts_per_address_per_minute,
        limiter.key("login", f"{tag}:{_digest(email.strip().lower())}"):
            settings.login_attempts_per_minute,
    }
    await limiter.reserve(keys, window_seconds=WINDOW_SECONDS)
    try:
        yield
    except BaseException as exc:
        if not (isinstance(exc, AppError) and exc.code in FAILURES):
            await limiter.release(list(keys))  # e.g. the database broke: not a wrong password
        raise
    await limiter.release(list(keys))


def token_for(user: User, *, settings: Settings) -> Token:
    """A new access token for the user, of his current token version."""
    token, lifetime = issue_token(
        user_id=user.id, role=user.role, organization_id=user.organization_id,
        token_version=user.token_version, settings=settings,
    )
    return Token(access_token=token, expires_in=lifetime)
