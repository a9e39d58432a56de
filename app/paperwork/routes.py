"""The signed PDFs over HTTP: a settlement's confirmation and a closed auction's record."""

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.db import SessionDep
from app.paperwork import service
from app.paperwork.signing import PdfSigner, signing_pem
from app.schemas import IdPath
from app.security import CurrentUser, Principal, Role, require_roles

router = APIRouter(tags=["paperwork"])
# Who may ever read an auction record: an enterprise never does (403); an institute reads only
# its own auctions' (404 for the others, as for anything not visible to the caller).
RecordReader = Annotated[Principal, require_roles(Role.admin, Role.auditor, Role.institute)]

_PDF_DOC = {200: {
    "description": "The signed PDF; `X-Content-SHA256` is the digest the audit ledger recorded.",
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    "headers": {"X-Content-SHA256": {"schema": {"type": "string"}, "description": "SHA-256 (hex)"}},
}}


def pdf_signer(request: Request) -> PdfSigner:
    """The platform's PDF key and certificate, loaded once per application."""
    signer = getattr(request.app.state, "pdf_signer", None)
    if signer is None:
        signer = request.app.state.pdf_signer = PdfSigner(signing_pem(request.app.state.settings))
    return signer


def pdf_response(paper: service.Paper) -> Response:
    """The document as a download, with its digest."""
    return Response(paper.content, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{paper.filename}"',
        "X-Content-SHA256": paper.sha256, "Cache-Control": "private, no-store",
    })


@router.get("/settlements/{settlement_id}/confirmation.pdf", response_class=Response,
            responses=_PDF_DOC, summary="The signed transaction confirmation (成交确认书)")
async def confirmation_pdf(
    request: Request, session: SessionDep, principal: CurrentUser, settlement_id: IdPath,
) -> Response:
    """The settlement's transaction confirmation, PDF-signed by the platform: for the buyer's
    and the seller's organisations, admin and auditor (404 for others). Made once, at the
    first request, and recorded in the audit ledger with its SHA-256."""
    paper = await service.confirmation_pdf(
        session, principal=principal, settlement_id=settlement_id, signer=pdf_signer(request))
    return pdf_response(paper)


@router.get("/auctions/{auction_id}/record.pdf", response_class=Response, responses=_PDF_DOC,
            summary="The signed auction record (拍卖笔录)")
async def record_pdf(
    request: Request, session: SessionDep, principal: RecordReader, auction_id: IdPath,
) -> Response:
    """A closed auction's record, every bid in order, PDF-signed by the platform: for the
    selling institute, admin and auditor (403 for enterprises, 404 for another institute's;
    409 auction_not_closed before the close). Made once and recorded in the audit ledger with
    its SHA-256."""
    paper = await service.record_pdf(
        session, principal=principal, auction_id=auction_id, signer=pdf_signer(request))
    return pdf_response(paper)
