"""Passwords, access tokens, the current principal and role guards."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.errors import Forbidden, Unauthorized
from app.settings import Environment, Settings

JWT_ALGORITHM = "HS256"
JWT_ISSUER = "techauction"


class Role(StrEnum):
    admin = "admin"
    institute = "institute"
    enterprise = "enterprise"
    auditor = "auditor"


@lru_cache
def password_hasher(env: Environment) -> PasswordHash:
    """Argon2id; the test environment uses cheap parameters so suites stay fast."""
    if env is Environment.test:
        return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    return PasswordHash((Argon2Hasher(),))


def hash_password(password: str, *, settings: Settings) -> str:
    """An argon2 hash of the password."""
    return password_hasher(settings.env).hash(password)


def verify_password(password: str, password_hash: str | None, *, settings: Settings) -> bool:
    """Check a password; with no stored hash, still spend the time so timing reveals nothing."""
    hasher = password_hasher(settings.env)
    if password_hash is None:
        hasher.verify(password, _dummy_hash(settings.env))
        return False
    return hasher.verify(password, password_hash)


@lru_cache
def _dummy_hash(env: Environment) -> str:
    return password_hasher(env).hash("no-such-user-dummy-password")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as the access token says."""

    user_id: int
    role: Role
    organization_id: int | None
    token_version: int = 0

    @property
    def is_staff_reader(self) -> bool:
        """Admin and auditor read everything."""
        return self.role in (Role.admin, Role.auditor)


def issue_token(
    *, user_id: int, role: Role, organization_id: int | None, token_version: int,
    settings: Settings,
) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=settings.access_token_minutes)
    claims = {
        "sub": str(user_id), "role": role.value, "org": organization_id, "ver": token_version,
        "iss": JWT_ISSUER, "iat": now, "exp": now + lifetime,
    }
    token = jwt.encode(claims, settings.jwt_key(), algorithm=JWT_ALGORITHM)
    return token, int(lifetime.total_seconds())


def decode_token(token: str, *, settings: Settings) -> tuple[Principal, float]:
    """The principal of a valid token and its expiry (epoch seconds); Unauthorized otherwise."""
    try:
        claims = jwt.decode(
            token, settings.jwt_key(), algorithms=[JWT_ALGORITHM], issuer=JWT_ISSUER,
            options={"require": ["sub", "exp", "iat", "iss", "ver"]},
        )
        org, version = claims.get("org"), claims["ver"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError("ver")
        principal = Principal(
            user_id=int(claims["sub"]), role=Role(claims["role"]),
            organization_id=int(org) if org is not None else None, token_version=version,
        )
        return principal, float(claims["exp"])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise Unauthorized("The access token is invalid or expired.", code="invalid_token") from exc


class TokenCache:
    """Principals of tokens already verified, until they expire.

    A bidder sends the same token with every bid; checking its signature each time cost
    more than deciding the bid. A hit is the very token string that passed `decode_token`,
    served only before its `exp`. Whether it was revoked since is not cached here: every
    request asks `TokenVersions` (app/revocation.py)."""

    def __init__(self, settings: Settings, size: int = 20_000) -> None:
        self._settings = settings
        self._size = size
        self._verified: dict[str, tuple[Principal, float]] = {}

    def principal(self, token: str) -> Principal:
        """The token's principal; Unauthorized when invalid or expired."""
        hit = self._verified.get(token)
        if hit is not None and time.time() < hit[1]:
            return hit[0]
        principal, expires = decode_token(token, settings=self._settings)
        if hit is None and len(self._verified) >= self._size:
            del self._verified[next(iter(self._verified))]  # the oldest entry
        self._verified[token] = (principal, expires)
        return principal


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# The dependencies below are `async def` on purpose: FastAPI runs plain `def` dependencies in
# a thread pool, which on the bid hot path cost more than the JWT check itself. Each reads the
# token itself (one level deep): every level of dependencies costs time on every request.
BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


async def _optional_principal(request: Request, token: BearerToken) -> Principal | None:
    if token is None:
        return None
    return await _current(request, token)


async def _current(request: Request, token: str) -> Principal:
    """The principal of a valid token that was not revoked since (one Redis read)."""
    state = request.app.state
    principal = state.tokens.principal(token)
    await state.token_versions.check(principal.user_id, principal.token_version)
    return principal


async def required_principal(request: Request, token: str | None) -> Principal:
    """The caller of a valid, unrevoked token; Unauthorized without one or with another."""
    if token is None:
        raise Unauthorized("Authentication is required.")
    return await _current(request, token)


async def _required_principal(request: Request, token: BearerToken) -> Principal:
    return await required_principal(request, token)


OptionalUser = Annotated[Principal | None, Depends(_optional_principal)]
CurrentUser = Annotated[Principal, Depends(_required_principal)]


async def principal_in_role(
    request: Request, token: str | None, roles: tuple[Role, ...]
) -> Principal:
    """The caller, if the token is valid and current (401) and its role one of roles (403)."""
    return check_role(await required_principal(request, token), roles)


def check_role(principal: Principal, roles: tuple[Role, ...]) -> Principal:
    """The principal if his role is one of roles; 403 forbidden_role otherwise."""
    if principal.role not in roles:
        raise Forbidden(
            f"This action needs the role {' or '.join(r.value for r in roles)}.",
            code="forbidden_role",
        )
    return principal


def require_roles(*roles: Role):
    """A dependency that lets only the given roles through (403 for the others)."""

    async def guard(request: Request, token: BearerToken) -> Principal:
        return await principal_in_role(request, token, roles)

    return Depends(guard)


AdminUser = Annotated[Principal, require_roles(Role.admin)]
StaffReader = Annotated[Principal, require_roles(Role.admin, Role.auditor)]
InstituteUser = Annotated[Principal, require_roles(Role.institute)]
EnterpriseUser = Annotated[Principal, require_roles(Role.enterprise)]
