"""A lot's documents and questions as one viewer sees them (the room), and the institute's
desk of them (the console): the same services and rules as the API."""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.models import Auction, Registration, RegistrationStatus
from app.documents import rules as document_rules
from app.documents import service as documents
from app.documents.models import Document, Visibility
from app.documents.schemas import DocumentOut
from app.listings.models import Listing
from app.questions import service as questions
from app.questions.models import Question
from app.questions.schemas import QuestionOut
from app.security import Principal, Role


@dataclass
class Dossier:
    """What the room shows of a lot's documents and questions."""

    documents: list[DocumentOut]
    questions: list[QuestionOut]
    registered: bool  # the viewer's enterprise is registered (pending or qualified)
    terms_accepted: bool

    @property
    def has_data_room(self) -> bool:
        return any(d.visibility is Visibility.data_room for d in self.documents)

    @property
    def may_accept_terms(self) -> bool:
        return self.registered and not self.terms_accepted and self.has_data_room


async def dossier(session: AsyncSession, *, principal: Principal | None, auction: Auction) -> Dossier:
    """The lot's documents (each saying whether the viewer may open it) and its questions."""
    registered = False
    if principal is not None and principal.role is Role.enterprise:
        registered = await session.scalar(select(Registration.id).where(
            Registration.auction_id == auction.id,
            Registration.organization_id == principal.organization_id,
            Registration.status != RegistrationStatus.rejected)) is not None
    return Dossier(
        documents=await documents.list_documents(session, principal=principal,
                                                 listing_id=auction.listing_id),
        questions=await questions.list_questions(session, principal=principal, auction_id=auction.id),
        registered=registered,
        terms_accepted=await documents.has_accepted(session, principal=principal, auction_id=auction.id),
    )


@dataclass
class PendingQuestion:
    question: Question
    title: str  # the listing's


@dataclass
class Desk:
    """The institute console's documents per listing and the questions waiting for an answer."""

    documents: dict[int, list[Document]] = field(default_factory=dict)  # listing id -> documents
    pending: list[PendingQuestion] = field(default_factory=list)

    @staticmethod
    def editable(status) -> bool:
        return status in document_rules.DOCUMENTS_EDITABLE


async def desk(session: AsyncSession, *, principal: Principal, listing_ids: list[int]) -> Desk:
    """The documents of the given listings, and the questions on the institute's auctions."""
    out = Desk()
    rows = (await session.scalars(select(Document).where(Document.listing_id.in_(listing_ids))
                                  .order_by(Document.id))).all() if listing_ids else []
    for document in rows:
        out.documents.setdefault(document.listing_id, []).append(document)
    pending = await questions.pending_for_owner(session, principal=principal)
    auction_ids = {q.auction_id for q in pending}
    titles = dict((await session.execute(
        select(Auction.id, Listing.title).join(Listing, Listing.id == Auction.listing_id)
        .where(Auction.id.in_(auction_ids)))).all()) if auction_ids else {}
    out.pending = [PendingQuestion(q, titles.get(q.auction_id, "")) for q in pending]
    return out
