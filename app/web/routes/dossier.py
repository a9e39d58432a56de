"""Lot documents and questions in the pages: downloads, the confidentiality terms, asking in
the room; uploading, removing and answering in the institute's console. Forms only."""

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.responses import Response

from app.auctions import service as auctions
from app.documents import service as documents
from app.documents.routes import blob_store, download, receive_document
from app.errors import AppError, NotFound
from app.questions import service as questions
from app.questions.schemas import AnswerCreate, QuestionCreate
from app.schemas import IdPath
from app.security import Role
from app.web import sessions
from app.web.actions import act, refusal, require
from app.web.page import PageDep, PageError

router = APIRouter(include_in_schema=False)


@router.get("/documents/{document_id}")
async def document(page: PageDep, document_id: IdPath) -> Response:
    """A document's bytes for the signed-in viewer (data-room downloads go to the ledger)."""
    try:
        found = await documents.open_document(page.db, principal=page.principal, document_id=document_id)
    except AppError as exc:
        raise refusal(page, exc) from exc
    return page.finish(download(found, blob_store(page.request)))


async def _auction_id(page, auction_id: int) -> int:
    try:
        return (await auctions.get_auction(page.db, auction_id=auction_id, principal=page.principal)).id
    except NotFound as exc:
        raise refusal(page, exc) from exc


@router.post("/auctions/{auction_id}/nda")
async def accept_terms(page: PageDep, auction_id: IdPath) -> Response:
    await page.form()
    require(page, Role.enterprise)
    back = f"/auctions/{await _auction_id(page, auction_id)}"
    return await act(page, lambda: documents.accept_terms(
        page.db, principal=page.principal, auction_id=auction_id), notice="terms_accepted", back=back)


@router.post("/auctions/{auction_id}/questions")
async def ask(page: PageDep, auction_id: IdPath) -> Response:
    form = await page.form()
    require(page, Role.enterprise)
    back = f"/auctions/{await _auction_id(page, auction_id)}"
    try:
        data = QuestionCreate.model_validate({"text": form.get("text", "")})
    except ValidationError:
        return page.redirect(f"{back}?error=invalid_question#questions")
    return await act(page, lambda: questions.ask(
        page.db, principal=page.principal, auction_id=auction_id, text=data.text),
        notice="question_sent", back=back)


@router.post("/console/questions/{question_id}/answer")
async def answer(page: PageDep, question_id: IdPath) -> Response:
    form = await page.form()
    require(page, Role.institute, Role.admin)
    try:
        data = AnswerCreate.model_validate({"answer": form.get("answer", "")})
    except ValidationError:
        return page.redirect("/console?error=invalid_answer")
    return await act(page, lambda: questions.answer(
        page.db, principal=page.principal, question_id=question_id, text=data.answer),
        notice="question_answered")


@router.post("/console/documents/{document_id}/delete")
async def delete(page: PageDep, document_id: IdPath) -> Response:
    await page.form()
    require(page, Role.institute, Role.admin)
    return await act(page, lambda: documents.delete_document(
        page.db, principal=page.principal, document_id=document_id), notice="document_deleted")


@router.post("/console/listings/{listing_id}/documents")
async def upload(page: PageDep, listing_id: IdPath) -> Response:
    """The console's upload form (multipart): its CSRF token travels in the form, checked once
    the body is in; the refusals of the API, as notices."""
    require(page, Role.institute, Role.admin)
    if sessions.cross_site(page.request):  # refused before a byte of the body is read
        raise PageError(403, page.gettext("This form has expired or came from another site. "
                                          "Reload the page and try again."))
    store = blob_store(page.request)
    try:
        async with page.changes():
            listing = await documents.manageable_listing(page.db, principal=page.principal,
                                                         listing_id=listing_id)
            spooled = await receive_document(page.request, store)
            if not sessions.csrf_valid(page.request, page.settings, page.session,
                                       spooled.fields.get("csrf_token")):
                spooled.discard()
                raise PageError(403, page.gettext("This form has expired or came from another "
                                                  "site. Reload the page and try again."))
            await documents.add_document(page.db, principal=page.principal, listing=listing,
                                         spooled=spooled, store=store,
                                         also_allowed=frozenset({"csrf_token"}))
    except AppError as exc:
        if exc.status in (403, 404):
            raise refusal(page, exc) from exc
        return page.redirect(f"/console?error={exc.code}#listing-{listing_id}")
    return page.redirect(f"/console?notice=document_uploaded#listing-{listing_id}")
