"""Enterprise self-sign-up: an organisation applies with its registration code and first user;
admin verifies it before any of its users may register for an auction."""

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import ledger
from app.db import utcnow
from app.errors import Forbidden
from app.identity.models import Organization, OrgKind, User
from app.identity.schemas import SignupRequest, UserCreate
from app.identity.service import add_organization, add_user, get_organization, organization_payload
from app.security import Role
from app.settings import Settings


async def apply(
    session: AsyncSession, *, data: SignupRequest, settings: Settings
) -> tuple[Organization, User]:
    """Create an unverified enterprise and its first (enterprise) user."""
    org = await add_organization(
        session, name=data.organization_name, kind=OrgKind.enterprise,
        registration_code=data.registration_code, verified=False,
    )
    user_data = UserCreate(
        email=data.email, password=data.password, role=Role.enterprise, organization_id=org.id
    )
    user = await add_user(
        session, data=user_data, settings=settings, actor_id=None, user_inputs=(org.name,)
    )
    await ledger.append(
        session, actor_id=user.id, action="organization.applied", entity_type="organization",
        entity_id=org.id, payload={**organization_payload(org), "applicant_id": user.id},
    )
    return org, user


async def verify(session: AsyncSession, *, organization_id: int, actor_id: int) -> Organization:
    """Mark an organisation verified (admin); verifying a verified one changes nothing."""
    org = await get_organization(session, organization_id=organization_id)
    if org.verified:
        return org
    org.verified_at = utcnow()
    await session.flush()
    await ledger.append(
        session, actor_id=actor_id, action="organization.verified", entity_type="organization",
        entity_id=org.id, payload=organization_payload(org),
    )
    return org


async def require_verified(session: AsyncSession, *, organization_id: int | None) -> None:
    """403 organization_not_verified unless the organisation was verified by admin."""
    org = await session.get(Organization, organization_id) if organization_id else None
    if org is None or not org.verified:
        raise Forbidden(
            "Your organization is not verified yet: the operator verifies it before it may "
            "register for auctions.", code="organization_not_verified",
        )
