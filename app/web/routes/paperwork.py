"""The signed PDFs from the consoles: the same documents, rules and ledger entries as the API's
(app/paperwork), for the signed-in user of the page's session."""

from fastapi import APIRouter
from starlette.responses import Response

from app.errors import AppError
from app.paperwork import service
from app.paperwork.routes import pdf_response, pdf_signer
from app.schemas import IdPath
from app.security import Role
from app.web.actions import refusal, require
from app.web.page import PageDep

router = APIRouter(include_in_schema=False)
ANY_ROLE = tuple(Role)


@router.get("/console/settlements/{settlement_id}/confirmation.pdf")
async def confirmation_pdf(page: PageDep, settlement_id: IdPath) -> Response:
    require(page, *ANY_ROLE)
    try:
        paper = await service.confirmation_pdf(
            page.db, principal=page.principal, settlement_id=settlement_id,
            signer=pdf_signer(page.request))
    except AppError as exc:
        raise refusal(page, exc) from exc
    return page.finish(pdf_response(paper))


@router.get("/console/auctions/{auction_id}/record.pdf")
async def record_pdf(page: PageDep, auction_id: IdPath) -> Response:
    require(page, Role.admin, Role.auditor, Role.institute)
    try:
        paper = await service.record_pdf(
            page.db, principal=page.principal, auction_id=auction_id, signer=pdf_signer(page.request))
    except AppError as exc:
        raise refusal(page, exc) from exc
    return page.finish(pdf_response(paper))
