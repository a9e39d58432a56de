"""Lot documents: upload, listing, download through the data-room rule, deletion; NDA acceptance."""

import re
import unicodedata

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.models import Auction, Registration, RegistrationStatus
from app.auctions.service import get_auction
from app.audit import ledger
from app.db import flush_or_raise
from app.documents import rules
from app.documents.models import Document, NdaAcceptance, Visibility
from app.documents.schemas import DocumentFields, DocumentOut
from app.documents.storage import BlobStore
from app.documents.upload import ALLOWED_TYPES, Spooled
from app.errors import Conflict, Forbidden, NotFound, Unauthorized, Unprocessable
from app.listings.models import Listing
from app.listings.service import get_listing
from app.security import Principal, Role

_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"]")


def clean_filename(raw: str, media_type: str) -> str:
    """A display name from the client's file name: no path, no control characters, bounded."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("", name).strip(" .")[:200]
    return name or f"document.{ALLOWED_TYPES[media_type]}"


async def manageable_listing(session: AsyncSession, *, principal: Principal, listing_id: int) -> Listing:
    """The listing, if the caller may add or remove its documents now (checked before any upload)."""
    listing = await get_listing(session, principal=principal, listing_id=listing_id)
    if not rules.may_manage(principal, owner_id=listing.organization_id):
        raise Forbidden("Only the owning institute or admin manage a listing's documents.",
                        code="not_owner")
    if listing.status not in rules.DOCUMENTS_EDITABLE:
        raise Conflict(f"Documents of a {listing.status.value} listing can no longer change.",
                       code="listing_closed")
    return listing


def _fields(spooled: Spooled, also_allowed: frozenset[str]) -> DocumentFields:
    """The form's fields; unknown ones are refused, as in every request body."""
    fields = {name: value for name, value in spooled.fields.items() if name not in also_allowed}
    try:
        return DocumentFields.model_validate(fields)
    except ValidationError as exc:
        raise Unprocessable("The form takes file, kind and visibility, each as documented.",
                            code="invalid_document_fields") from exc


async def add_document(
    session: AsyncSession, *, principal: Principal, listing: Listing, spooled: Spooled, store: BlobStore,
    also_allowed: frozenset[str] = frozenset(),
) -> Document:
    """Keep the spooled bytes (content-addressed) and the document's row, in one transaction;
    also_allowed: form fields the caller handled itself (a page's CSRF token)."""
    try:
        fields = _fields(spooled, also_allowed)
        await store.put(session, sha256=spooled.sha256, source=spooled.path)
    finally:
        spooled.discard()
    document = Document(
        listing_id=listing.id, uploaded_by_id=principal.user_id, kind=fields.kind,
        visibility=fields.visibility, filename=clean_filename(spooled.filename, spooled.media_type),
        media_type=spooled.media_type, size_bytes=spooled.size, sha256=spooled.sha256,
    )
    session.add(document)
    await session.flush()
    await _record(session, principal, document, "document.uploaded")
    return document


async def _record(session: AsyncSession, principal: Principal, document: Document, action: str) -> None:
    await ledger.append(
        session, actor_id=principal.user_id, action=action, entity_type="document",
        entity_id=document.id, payload={
            "listing_id": document.listing_id, "sha256": document.sha256,
            "visibility": document.visibility.value, "kind": document.kind.value,
            "organization_id": principal.organization_id,
        },
    )


async def cleared_for_data_room(
    session: AsyncSession, *, principal: Principal | None, listing_id: int
) -> bool:
    """The caller's enterprise is qualified for an auction of the listing and accepted its terms."""
    if principal is None or principal.role is not Role.enterprise:
        return False
    found = await session.scalar(
        select(Registration.id)
        .join(Auction, Auction.id == Registration.auction_id)
        .join(NdaAcceptance, (NdaAcceptance.auction_id == Registration.auction_id)
              & (NdaAcceptance.organization_id == Registration.organization_id))
        .where(Auction.listing_id == listing_id,
               Registration.organization_id == principal.organization_id,
               Registration.status == RegistrationStatus.qualified)
        .limit(1)
    )
    return found is not None


async def list_documents(
    session: AsyncSession, *, principal: Principal | None, listing_id: int
) -> list[DocumentOut]:
    """Every document of a listing the caller may read, each saying whether he may open it."""
    listing = await get_listing(session, principal=principal, listing_id=listing_id)
    cleared = await cleared_for_data_room(session, principal=principal, listing_id=listing.id)
    rows = (await session.scalars(
        select(Document).where(Document.listing_id == listing.id).order_by(Document.id))).all()
    out = []
    for document in rows:
        item = DocumentOut.model_validate(document)
        item.accessible = rules.may_read(
            principal, visibility=document.visibility, owner_id=listing.organization_id, cleared=cleared)
        if not item.accessible:  # a confidential document's name may itself say too much
            item.filename = item.sha256 = None
        out.append(item)
    return out


async def _document(
    session: AsyncSession, *, principal: Principal | None, document_id: int
) -> tuple[Document, Listing]:
    document = await session.get(Document, document_id)
    if document is None:
        raise NotFound("No such document.", code="document_not_found")
    try:
        listing = await get_listing(session, principal=principal, listing_id=document.listing_id)
    except NotFound:
        raise NotFound("No such document.", code="document_not_found") from None
    return document, listing


async def open_document(
    session: AsyncSession, *, principal: Principal | None, document_id: int
) -> Document:
    """A document the caller may download; a data-room download is written to the ledger."""
    document, listing = await _document(session, principal=principal, document_id=document_id)
    if document.visibility is Visibility.public:
        return document
    if principal is None:
        raise Unauthorized("Data-room documents need a signed-in, cleared user.")
    cleared = await cleared_for_data_room(session, principal=principal, listing_id=listing.id)
    if not rules.may_read(principal, visibility=document.visibility,
                          owner_id=listing.organization_id, cleared=cleared):
        raise Forbidden("The data room opens to qualified bidders who accepted the auction's "
                        "confidentiality terms.", code="data_room_closed")
    await _record(session, principal, document, "document.downloaded")
    return document


async def delete_document(session: AsyncSession, *, principal: Principal, document_id: int) -> Document:
    """Remove a document from its listing (owner or admin, while documents may change).

    The bytes stay: they are content-addressed and may back another document."""
    document, listing = await _document(session, principal=principal, document_id=document_id)
    await manageable_listing(session, principal=principal, listing_id=listing.id)
    await _record(session, principal, document, "document.deleted")
    await session.delete(document)
    await session.flush()
    return document


async def accept_terms(
    session: AsyncSession, *, principal: Principal, auction_id: int
) -> tuple[NdaAcceptance, bool]:
    """Record that the caller's enterprise accepts the auction's confidentiality terms (once);
    returns the acceptance and whether it is new."""
    auction = await get_auction(session, auction_id=auction_id, principal=principal)
    existing = await _acceptance(session, auction.id, principal.organization_id)
    if existing is not None:
        return existing, False
    registered = await session.scalar(select(Registration.id).where(
        Registration.auction_id == auction.id, Registration.organization_id == principal.organization_id,
        Registration.status != RegistrationStatus.rejected))
    if registered is None:
        raise Forbidden("Register for this auction before accepting its confidentiality terms.",
                        code="not_registered")
    acceptance = NdaAcceptance(auction_id=auction.id, organization_id=principal.organization_id,
                               accepted_by_id=principal.user_id)
    session.add(acceptance)
    await flush_or_raise(session, Conflict("The terms were just accepted; retry.", code="nda_race"))
    await ledger.append(
        session, actor_id=principal.user_id, action="auction.nda_accepted", entity_type="auction",
        entity_id=auction.id, payload={"organization_id": principal.organization_id,
                                       "listing_id": auction.listing_id},
    )
    return acceptance, True


async def _acceptance(
    session: AsyncSession, auction_id: int, organization_id: int | None
) -> NdaAcceptance | None:
    return await session.scalar(select(NdaAcceptance).where(
        NdaAcceptance.auction_id == auction_id, NdaAcceptance.organization_id == organization_id))


async def has_accepted(session: AsyncSession, *, principal: Principal | None, auction_id: int) -> bool:
    """Whether the caller's organisation accepted the auction's terms (the room shows the form)."""
    if principal is None or principal.organization_id is None:
        return False
    return await _acceptance(session, auction_id, principal.organization_id) is not None
