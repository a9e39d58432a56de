"""Sign-in, the current user, organisations and users."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.db import SessionDep
from app.errors import NotFound, Unprocessable
from app.identity import service, signin
from app.identity.account_routes import router as accounts_router
from app.identity.schemas import (
    OrganizationCreate,
    OrganizationOut,
    Token,
    UserCreate,
    UserOut,
)
from app.pagination import PageDep
from app.schemas import MAX_DB_ID, IdPath, Page, storable_text
from app.security import AdminUser, CurrentUser, StaffReader

router = APIRouter()
router.include_router(accounts_router)


@router.post("/auth/token", response_model=Token, tags=["identity"])
async def login(
    request: Request, session: SessionDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> Token:
    """OAuth2 password flow: the username is the email, the password taken exactly as sent.
    Failed attempts are limited per email and client address, and per client address."""
    settings = request.app.state.settings
    try:  # no stored email holds a NUL, and PostgreSQL refuses one even in a query
        storable_text(form.username)
    except ValueError as exc:
        raise Unprocessable("The username is not a valid email.") from exc
    async with signin.attempt(
        limiter=request.app.state.rate_limiter, settings=settings, email=form.username,
        address=signin.client_address(request),
    ):
        user = await service.authenticate(
            session, email=form.username, password=form.password, settings=settings
        )
    # Warm Redis with the user's version: his first bid then needs no database read.
    await request.app.state.token_versions.publish(user.id, user.token_version)
    return signin.token_for(user, settings=settings)


@router.get("/me", response_model=UserOut, tags=["identity"])
async def me(session: SessionDep, principal: CurrentUser) -> UserOut:
    """The signed-in user."""
    user = await service.get_user(session, user_id=principal.user_id)
    return UserOut.model_validate(user)


@router.post("/organizations", status_code=201, response_model=OrganizationOut, tags=["identity"])
async def create_organization(
    session: SessionDep, admin: AdminUser, data: OrganizationCreate
) -> OrganizationOut:
    """Create an institute, enterprise or auditor organisation (admin)."""
    org = await service.create_organization(session, data=data, actor_id=admin.user_id)
    return OrganizationOut.model_validate(org)


@router.get("/organizations", response_model=Page[OrganizationOut], tags=["identity"])
async def list_organizations(
    session: SessionDep, _: StaffReader, page: PageDep, verified: bool | None = None
):
    """Every organisation (admin, auditor); `verified=false`: the sign-ups awaiting verification."""
    rows, cursor = await service.list_organizations(session, page=page, verified=verified)
    return Page(items=[OrganizationOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/organizations/{organization_id}", response_model=OrganizationOut, tags=["identity"])
async def get_organization(
    session: SessionDep, principal: CurrentUser, organization_id: IdPath
) -> OrganizationOut:
    """One organisation: staff read any, members their own."""
    if not principal.is_staff_reader and principal.organization_id != organization_id:
        raise NotFound("No such organization.")
    org = await service.get_organization(session, organization_id=organization_id)
    return OrganizationOut.model_validate(org)


@router.post("/users", status_code=201, response_model=UserOut, tags=["identity"])
async def create_user(
    request: Request, session: SessionDep, admin: AdminUser, data: UserCreate
) -> UserOut:
    """Create a user of any role (admin)."""
    user = await service.create_user(
        session, data=data, settings=request.app.state.settings, actor_id=admin.user_id
    )
    return UserOut.model_validate(user)


@router.get("/users", response_model=Page[UserOut], tags=["identity"])
async def list_users(
    session: SessionDep, _: StaffReader, page: PageDep,
    organization_id: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None,
):
    """Every user, optionally of one organisation (admin, auditor)."""
    rows, cursor = await service.list_users(session, page=page, organization_id=organization_id)
    return Page(items=[UserOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/users/{user_id}", response_model=UserOut, tags=["identity"])
async def get_user(session: SessionDep, principal: CurrentUser, user_id: IdPath) -> UserOut:
    """One user: staff read any, others themselves."""
    user = await service.get_user(session, user_id=user_id)
    if not service.can_read_user(principal, user):
        raise NotFound("No such user.")
    return UserOut.model_validate(user)
