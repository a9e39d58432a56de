"""Settlement endpoints: thin views over the service."""

from typing import Annotated

from fastapi import APIRouter, Query

from app.db import SessionDep
from app.pagination import PageDep
from app.schemas import MAX_DB_ID, IdPath, NoBody, Page, TimestampIn
from app.security import AdminUser, CurrentUser
from app.settlements import service
from app.settlements.models import SettlementStatus
from app.settlements.schemas import PaymentConfirmation, SettlementOut

router = APIRouter(prefix="/settlements", tags=["settlements"])


@router.get("", response_model=Page[SettlementOut])
async def list_settlements(
    session: SessionDep, principal: CurrentUser, page: PageDep,
    created_from: Annotated[TimestampIn | None, Query(
        alias="from", description="created at or after (ISO 8601 with a zone)")] = None,
    created_to: Annotated[TimestampIn | None, Query(
        alias="to", description="created before (ISO 8601 with a zone)")] = None,
    institute: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="institute org id")] = None,
    status: SettlementStatus | None = None,
    auction: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="auction id")] = None,
):
    """Settlements the caller may read, newest first: admin and auditor all, an institute
    those of its listings, an enterprise its own. `from` after `to` selects nothing."""
    filters = service.SettlementFilters(
        created_from=created_from, created_to=created_to, institute=institute, status=status,
        auction=auction,
    )
    rows, cursor = await service.list_settlements(
        session, principal=principal, filters=filters, page=page
    )
    return Page(items=await service.to_outs(session, rows), next_cursor=cursor)


@router.get("/{settlement_id}", response_model=SettlementOut)
async def get_settlement(
    session: SessionDep, principal: CurrentUser, settlement_id: IdPath
) -> SettlementOut:
    """One settlement, if the caller may read it (404 otherwise)."""
    settlement = await service.get_settlement(
        session, principal=principal, settlement_id=settlement_id
    )
    return await service.to_out(session, settlement)


@router.post("/{settlement_id}/confirm-payment", response_model=SettlementOut)
async def confirm_payment(
    session: SessionDep, principal: AdminUser, settlement_id: IdPath, data: PaymentConfirmation
) -> SettlementOut:
    """The buyer has paid the amount due: pending_payment -> paid (admin)."""
    settlement = await service.confirm_payment(
        session, principal=principal, settlement_id=settlement_id,
        payment_reference=data.payment_reference,
    )
    return await service.to_out(session, settlement)


@router.post("/{settlement_id}/complete", response_model=SettlementOut)
async def complete(
    session: SessionDep, principal: AdminUser, settlement_id: IdPath, body: NoBody = None
) -> SettlementOut:
    """The outcome has been transferred: paid -> completed (admin)."""
    settlement = await service.complete(session, principal=principal, settlement_id=settlement_id)
    return await service.to_out(session, settlement)


@router.post("/{settlement_id}/default", response_model=SettlementOut)
async def default(
    session: SessionDep, principal: AdminUser, settlement_id: IdPath, body: NoBody = None
) -> SettlementOut:
    """The buyer did not pay: pending_payment -> defaulted, deposit forfeited; the runner-up
    (best bid of another bidder meeting the reserve) gets a second-chance settlement at his
    best bid, else the listing goes unsold (admin)."""
    settlement = await service.default(session, principal=principal, settlement_id=settlement_id)
    return await service.to_out(session, settlement)
