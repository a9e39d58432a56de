"""Changing accounts (admin: role, organisation, active state; anyone: his own password) and
enterprise self-sign-up with the operator's verification."""

from fastapi import APIRouter, Request

from app.db import SessionDep
from app.identity import accounts, signin, signup
from app.identity.schemas import (
    OrganizationOut,
    PasswordChange,
    SignupOut,
    SignupRequest,
    Token,
    UserOut,
    UserUpdate,
)
from app.schemas import IdPath, NoBody
from app.security import AdminUser, CurrentUser

router = APIRouter(tags=["identity"])


@router.patch("/users/{user_id}", response_model=UserOut)
async def update_user(
    request: Request, session: SessionDep, admin: AdminUser, user_id: IdPath, data: UserUpdate
) -> UserOut:
    """Change a user's role, organisation or active state (admin). Any change revokes the
    user's tokens at once: his older tokens get 401 token_revoked."""
    user = await accounts.update_user(
        session, actor=admin, user_id=user_id, data=data,
        versions=request.app.state.token_versions,
    )
    return UserOut.model_validate(user)


@router.post("/me/password", response_model=Token)
async def change_password(
    request: Request, session: SessionDep, principal: CurrentUser, data: PasswordChange
) -> Token:
    """Change one's own password. Revokes every token of the caller, this one too, and answers
    a new token. Wrong current passwords count as failed sign-ins (429 past the limit)."""
    state = request.app.state
    async with signin.attempt(
        limiter=state.rate_limiter, settings=state.settings,
        email=f"user:{principal.user_id}", address=signin.client_address(request),
    ):
        user = await accounts.change_password(
            session, principal=principal, current_password=data.current_password,
            new_password=data.new_password, settings=state.settings, versions=state.token_versions,
        )
    return signin.token_for(user, settings=state.settings)


@router.post("/signup", status_code=201, response_model=SignupOut)
async def apply(request: Request, session: SessionDep, data: SignupRequest) -> SignupOut:
    """An enterprise applies (public): its name, unified social credit code and first user.
    The user may sign in at once; the enterprise registers for auctions once admin verified it."""
    state = request.app.state
    await state.rate_limiter.hit(
        "signup", signin.client_address(request),
        limit=state.settings.signups_per_address_per_hour, window_seconds=3600,
    )
    org, user = await signup.apply(session, data=data, settings=state.settings)
    return SignupOut(organization=OrganizationOut.model_validate(org), user=UserOut.model_validate(user))


@router.post("/organizations/{organization_id}/verify", response_model=OrganizationOut)
async def verify_organization(
    session: SessionDep, admin: AdminUser, organization_id: IdPath, body: NoBody = None
) -> OrganizationOut:
    """Verify a signed-up organisation (admin): its users may then register for auctions."""
    org = await signup.verify(session, organization_id=organization_id, actor_id=admin.user_id)
    return OrganizationOut.model_validate(org)
