"""Document and confidentiality-terms endpoints: thin views over the service."""

import base64
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from app.db import SessionDep
from app.documents import service
from app.documents.models import Document
from app.documents.schemas import UPLOAD_OPENAPI, DocumentList, DocumentOut, NdaOut
from app.documents.storage import BlobStore, DatabaseStore, FileStore
from app.documents.upload import spool
from app.errors import PROBLEM_RESPONSES
from app.schemas import IdPath, NoBody
from app.security import CurrentUser, EnterpriseUser, OptionalUser

router = APIRouter(tags=["documents"])
# where BodySizeLimit lets documents through: the API's upload and the console's form
UPLOAD_PATH = r"^/api/v1/listings/[0-9]+/documents$"
CONSOLE_UPLOAD_PATH = r"^/console/listings/[0-9]+/documents$"


def blob_store(request: Request) -> BlobStore:
    """The configured store of document bytes (docs/decisions/0012-document-storage.md)."""
    settings = request.app.state.settings
    root = settings.var_dir / "documents"
    if settings.documents_in_database:
        return DatabaseStore(request.app.state.sessionmaker, root / "incoming")
    return FileStore(root)


StoreDep = Annotated[BlobStore, Depends(blob_store)]


async def receive_document(request: Request, store: BlobStore):
    """The request's multipart body spooled to disk (capped, hashed, type checked)."""
    return await spool(
        request.stream(), content_type=request.headers.get("content-type"),
        spool_dir=store.spool_dir, max_bytes=request.app.state.settings.document_max_bytes,
    )


@router.post(
    "/listings/{listing_id}/documents", status_code=201, response_model=DocumentOut,
    openapi_extra=UPLOAD_OPENAPI,
    responses={415: PROBLEM_RESPONSES[422] | {"description": "Not a PDF, PNG or JPEG by content"}},
)
async def upload_document(
    request: Request, session: SessionDep, principal: CurrentUser, store: StoreDep, listing_id: IdPath,
) -> DocumentOut:
    """Add a document to a listing (owning institute or admin): streamed, capped, type checked."""
    # who may upload is settled before a byte of the body is read
    listing = await service.manageable_listing(session, principal=principal, listing_id=listing_id)
    spooled = await receive_document(request, store)
    document = await service.add_document(
        session, principal=principal, listing=listing, spooled=spooled, store=store)
    return DocumentOut.model_validate(document).model_copy(update={"accessible": True})


@router.get("/listings/{listing_id}/documents", response_model=DocumentList)
async def list_documents(session: SessionDep, principal: OptionalUser, listing_id: IdPath) -> DocumentList:
    """A listing's documents, public and data room, each saying whether the caller may open it."""
    items = await service.list_documents(session, principal=principal, listing_id=listing_id)
    return DocumentList(items=items)


def download_headers(document: Document) -> dict[str, str]:
    """The digest (RFC 9530 Repr-Digest, and hex in the ETag) and a safe file name."""
    digest = base64.b64encode(bytes.fromhex(document.sha256)).decode()
    return {
        "Repr-Digest": f"sha-256=:{digest}:", "ETag": f'"{document.sha256}"',
        "Content-Length": str(document.size_bytes),
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(document.filename)}",
        "Cache-Control": "private, no-store",
    }


def download(document: Document, store: BlobStore) -> StreamingResponse:
    """The document's bytes streamed from the store, with their digest."""
    return StreamingResponse(store.read(document.sha256), media_type=document.media_type,
                             headers=download_headers(document))


@router.get(
    "/documents/{document_id}", response_class=StreamingResponse,
    responses={200: {"description": "The document's bytes; Repr-Digest and ETag carry their SHA-256",
                     "content": {"application/pdf": {}, "image/png": {}, "image/jpeg": {}}}},
)
async def download_document(
    session: SessionDep, principal: OptionalUser, store: StoreDep, document_id: IdPath,
) -> StreamingResponse:
    """A document's bytes; data-room ones only for cleared bidders, owner, admin and auditor."""
    document = await service.open_document(session, principal=principal, document_id=document_id)
    return download(document, store)


@router.delete("/documents/{document_id}", status_code=204)
async def delete_document(session: SessionDep, principal: CurrentUser, document_id: IdPath) -> Response:
    """Remove a document from its listing (owning institute or admin)."""
    await service.delete_document(session, principal=principal, document_id=document_id)
    return Response(status_code=204)


@router.post("/auctions/{auction_id}/nda", status_code=201, response_model=NdaOut,
             responses={200: {"model": NdaOut, "description": "Accepted before"}})
async def accept_nda(
    response: Response, session: SessionDep, principal: EnterpriseUser, auction_id: IdPath,
    body: NoBody = None,
) -> NdaOut:
    """Accept the auction's confidentiality terms for the caller's enterprise (registered for it)."""
    acceptance, created = await service.accept_terms(session, principal=principal, auction_id=auction_id)
    if not created:
        response.status_code = 200
    return NdaOut.model_validate(acceptance)
