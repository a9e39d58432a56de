"""Changing accounts: role, organisation, active state and password; each change revokes the
user's tokens (app/revocation.py) in the transaction that makes it."""

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from app.audit import ledger
from app.db import after_commit
from app.errors import Conflict, Forbidden, Unprocessable
from app.identity.models import Organization, User
from app.identity.passwords import require_strong
from app.identity.schemas import UserUpdate
from app.identity.service import check_role_fits_organization, get_user
from app.revocation import TokenVersions
from app.security import Principal, Role, hash_password, verify_password
from app.settings import Settings


async def revoke_tokens(session: AsyncSession, *, user: User, versions: TokenVersions) -> None:
    """Increment the user's token version; every API process refuses his older tokens once
    the transaction commits (the new version is written to Redis right after)."""
    # In SQL, not in Python: two racing changes must make two versions, not one.
    version = await session.scalar(
        update(User).where(User.id == user.id).values(token_version=User.token_version + 1)
        .returning(User.token_version)
    )
    _publish_after_commit(session, user_id=user.id, version=version, versions=versions)


def _publish_after_commit(
    session: AsyncSession, *, user_id: int, version: int, versions: TokenVersions
) -> None:
    async def publish() -> None:
        await versions.publish(user_id, version)

    after_commit(session, publish)


async def update_user(
    session: AsyncSession, *, actor: Principal, user_id: int, data: UserUpdate,
    versions: TokenVersions,
) -> User:
    """Change a user's role, organisation or active state (admin); revokes his tokens."""
    user = await get_user(session, user_id=user_id)
    wanted = {name: getattr(data, name) for name in data.model_fields_set}
    changes = {name: [getattr(user, name), value] for name, value in wanted.items()
               if getattr(user, name) != value}
    if not changes:  # a retry after Redis failed once the change committed: publish again
        _publish_after_commit(session, user_id=user.id, version=user.token_version, versions=versions)
        return user
    if user.id == actor.user_id:
        raise Conflict("Admins cannot change their own role, organization or active state.",
                       code="own_account")
    role = wanted.get("role", user.role)
    organization_id = wanted.get("organization_id", user.organization_id)
    if "role" in changes or "organization_id" in changes:
        await _check_role_fits(session, role=role, organization_id=organization_id, wanted=wanted)
    user.role, user.organization_id = role, organization_id
    user.is_active = wanted.get("is_active", user.is_active)
    await revoke_tokens(session, user=user, versions=versions)
    await ledger.append(
        session, actor_id=actor.user_id, action="user.updated", entity_type="user",
        entity_id=user.id, payload={"changes": changes, "token_version": user.token_version},
    )
    return user


async def change_password(
    session: AsyncSession, *, principal: Principal, current_password: str, new_password: str,
    settings: Settings, versions: TokenVersions,
) -> User:
    """Change the caller's own password, given the current one; revokes his tokens."""
    user = await get_user(session, user_id=principal.user_id)
    if not await run_in_threadpool(
        verify_password, current_password, user.password_hash, settings=settings
    ):
        raise Forbidden("The current password is wrong.", code="wrong_password")
    if new_password == current_password:
        raise Unprocessable("The new password is the current one.", code="password_unchanged")
    org = await session.get(Organization, user.organization_id) if user.organization_id else None
    await require_strong(
        new_password, user_inputs=[user.email, *([org.name] if org else [])], settings=settings
    )
    user.password_hash = await run_in_threadpool(hash_password, new_password, settings=settings)
    await revoke_tokens(session, user=user, versions=versions)
    await ledger.append(
        session, actor_id=user.id, action="user.password_changed", entity_type="user",
        entity_id=user.id, payload={"token_version": user.token_version},
    )
    return user


async def _check_role_fits(
    session: AsyncSession, *, role: Role, organization_id: int | None, wanted: dict
) -> None:
    """The changed user's role must fit his organisation. Where the rule is broken by what the
    user already has (the request names only one of the two), it is a conflict with his
    state (409), not a malformed request (422)."""
    try:
        await check_role_fits_organization(session, role=role, organization_id=organization_id)
    except Unprocessable as exc:
        if {"role", "organization_id"} <= wanted.keys():
            raise
        raise Conflict(exc.detail, code=exc.code) from exc
