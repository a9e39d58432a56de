"""Organisations, users and sign-in."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.concurrency import run_in_threadpool

from app.audit import ledger
from app.db import flush_or_raise, utcnow
from app.errors import Conflict, NotFound, Unauthorized, Unprocessable
from app.identity.models import ROLE_ORG_KIND, Organization, User
from app.identity.passwords import require_strong
from app.identity.schemas import OrganizationCreate, UserCreate
from app.pagination import PageParams, fetch_page
from app.redis import AsyncRedis
from app.revocation import TokenVersions
from app.security import Principal, Role, hash_password, verify_password
from app.settings import Settings


async def create_organization(
    session: AsyncSession, *, data: OrganizationCreate, actor_id: int | None
) -> Organization:
    """Create an organisation (admin): verified at once; names and registration codes are unique."""
    org = await add_organization(
        session, name=data.name, kind=data.kind, registration_code=data.registration_code,
        verified=True,
    )
    await ledger.append(
        session, actor_id=actor_id, action="organization.created", entity_type="organization",
        entity_id=org.id, payload=organization_payload(org),
    )
    return org


async def add_organization(
    session: AsyncSession, *, name: str, kind, registration_code: str | None, verified: bool
) -> Organization:
    """Insert an organisation; 409 when its name or registration code is taken."""
    if registration_code is not None and await session.scalar(
        select(Organization.id).where(Organization.registration_code == registration_code)
    ):
        raise Conflict("An organization with this registration code exists.",
                       code="registration_code_taken")
    org = Organization(
        name=name, kind=kind, registration_code=registration_code,
        verified_at=utcnow() if verified else None,
    )
    session.add(org)
    await flush_or_raise(
        session, Conflict("An organization with this name exists.", code="organization_exists")
    )
    return org


def organization_payload(org: Organization) -> dict:
    """What the audit ledger records of an organisation."""
    return {"name": org.name, "kind": org.kind.value, "registration_code": org.registration_code,
            "verified": org.verified}


async def get_organization(session: AsyncSession, *, organization_id: int) -> Organization:
    """One organisation or 404."""
    org = await session.get(Organization, organization_id)
    if org is None:
        raise NotFound("No such organization.")
    return org


async def list_organizations(session: AsyncSession, *, page: PageParams, verified: bool | None):
    """A page of organisations, optionally only the verified (or unverified) ones."""
    stmt = select(Organization)
    if verified is not None:
        stmt = stmt.where(
            Organization.verified_at.is_not(None) if verified else Organization.verified_at.is_(None)
        )
    return await fetch_page(session, stmt, id_column=Organization.id, page=page)


async def create_user(
    session: AsyncSession, *, data: UserCreate, settings: Settings, actor_id: int | None
) -> User:
    """Create a user whose role matches the kind of its organisation, with a strong password."""
    await check_role_fits_organization(session, role=data.role, organization_id=data.organization_id)
    return await add_user(session, data=data, settings=settings, actor_id=actor_id)


async def add_user(
    session: AsyncSession, *, data: UserCreate, settings: Settings, actor_id: int | None,
    user_inputs: tuple[str, ...] = (),
) -> User:
    """Insert a user (its role already checked) and record it; 422 for a weak password."""
    await require_strong(data.password, user_inputs=[data.email, *user_inputs], settings=settings)
    password_hash = await run_in_threadpool(hash_password, data.password, settings=settings)
    user = User(
        email=data.email, password_hash=password_hash,
        role=data.role, organization_id=data.organization_id,
    )
    session.add(user)
    await flush_or_raise(session, Conflict("A user with this email exists.", code="email_taken"))
    await ledger.append(
        session, actor_id=actor_id, action="user.created",
        entity_type="user", entity_id=user.id,
        payload={"email": user.email, "role": user.role.value,
                 "organization_id": user.organization_id},
    )
    return user


async def check_role_fits_organization(
    session: AsyncSession, *, role: Role, organization_id: int | None
) -> None:
    wanted = ROLE_ORG_KIND[role]
    if wanted is None:
        if organization_id is not None:
            raise Unprocessable("Admins belong to no organization.", code="role_organization_mismatch")
        return
    if organization_id is None:
        raise Unprocessable(f"A {role.value} user needs an organization.", code="organization_required")
    # (the two rules above are in the API document; those below depend on the organisation,
    # which a well-formed request cannot know: 404 and 409, not 422)
    org = await session.get(Organization, organization_id)
    if org is None:
        raise NotFound("The organization does not exist.", code="organization_not_found")
    if org.kind != wanted:
        raise Conflict(
            f"A {role.value} user must belong to a {wanted.value} organization.",
            code="role_organization_mismatch",
        )


async def get_user(session: AsyncSession, *, user_id: int) -> User:
    """One user or 404."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


async def list_users(session: AsyncSession, *, page: PageParams, organization_id: int | None):
    """A page of users, optionally of one organisation."""
    stmt = select(User)
    if organization_id is not None:
        stmt = stmt.where(User.organization_id == organization_id)
    return await fetch_page(session, stmt, id_column=User.id, page=page)


async def token_version(session: AsyncSession, *, user_id: int) -> int | None:
    """The user's current token version; None when no active user has this id."""
    row = (await session.execute(
        select(User.token_version, User.is_active).where(User.id == user_id)
    )).one_or_none()
    return row.token_version if row is not None and row.is_active else None


def token_versions(
    *, redis: AsyncRedis, prefix: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> TokenVersions:
    """The users' token versions in Redis, loaded from the users table when missing there."""

    async def load(user_id: int) -> int | None:
        async with sessionmaker() as session:
            return await token_version(session, user_id=user_id)

    return TokenVersions(redis, prefix, load)


async def authenticate(
    session: AsyncSession, *, email: str, password: str, settings: Settings
) -> User:
    """The active user with this email and password (exactly as sent); Unauthorized otherwise."""
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    # Argon2 takes tens of milliseconds of CPU: keep it off the event loop.
    valid = await run_in_threadpool(
        verify_password, password, user.password_hash if user else None, settings=settings
    )
    if user is None or not valid or not user.is_active:
        raise Unauthorized("Wrong email or password.", code="invalid_credentials")
    return user


def can_read_user(principal: Principal, user: User) -> bool:
    """Staff read every user; others read themselves."""
    return principal.is_staff_reader or principal.user_id == user.id
