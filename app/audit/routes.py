"""Audit endpoints: the ledger and its verification (auditor, admin)."""

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from app.audit import ledger
from app.audit.models import LedgerEntry
from app.audit.schemas import LedgerEntryOut, VerifyResult
from app.db import SessionDep
from app.pagination import PageDep, fetch_page
from app.schemas import MAX_DB_ID, TEXT_PATTERN, Page
from app.security import StaffReader

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("/verify", response_model=VerifyResult, response_model_exclude_none=True)
async def verify_ledger(session: SessionDep, _: StaffReader) -> VerifyResult:
    """Walk the hash chain: {ok, entries, head} or {ok: false, first_bad_sequence, reason}."""
    result = await ledger.verify(session)
    return VerifyResult(
        ok=result.ok, entries=result.entries, head=result.head,
        first_bad_sequence=result.first_bad_sequence, reason=result.reason,
    )


@router.get("/ledger", response_model=Page[LedgerEntryOut])
async def list_ledger(
    session: SessionDep, _: StaffReader, page: PageDep,
    action: Annotated[str | None, Query(max_length=64, pattern=TEXT_PATTERN)] = None,
    entity_type: Annotated[str | None, Query(max_length=32, pattern=TEXT_PATTERN)] = None,
    entity_id: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None,
):
    """Ledger entries, newest first, optionally of one action or entity."""
    stmt = select(LedgerEntry)
    for column, value in (
        (LedgerEntry.action, action), (LedgerEntry.entity_type, entity_type),
        (LedgerEntry.entity_id, entity_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    rows, cursor = await fetch_page(session, stmt, id_column=LedgerEntry.sequence, page=page)
    return Page(items=[LedgerEntryOut.model_validate(r) for r in rows], next_cursor=cursor)
