"""Questions on a lot: a registered enterprise asks, the owner or admin answers in public.

Askers are anonymous: no answer carries who asked, only whether it was the caller himself."""

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.models import Auction, Registration, RegistrationStatus
from app.auctions.service import get_auction
from app.audit import ledger
from app.db import utcnow
from app.errors import Conflict, Forbidden, NotFound
from app.listings.models import Listing
from app.questions.models import Question
from app.questions.schemas import QuestionOut
from app.security import Principal, Role

MAX_LISTED = 500  # questions shown per auction (a lot draws tens, not thousands)


def _record_payload(question: Question) -> dict:
    return {"auction_id": question.auction_id, "organization_id": question.organization_id}


async def ask(session: AsyncSession, *, principal: Principal, auction_id: int, text: str) -> Question:
    """A question from an enterprise registered (pending or qualified) for the auction."""
    auction = await get_auction(session, auction_id=auction_id, principal=principal)
    registered = await session.scalar(select(Registration.id).where(
        Registration.auction_id == auction.id, Registration.organization_id == principal.organization_id,
        Registration.status != RegistrationStatus.rejected))
    if registered is None:
        raise Forbidden("Register for this auction to ask about it.", code="not_registered")
    question = Question(auction_id=auction.id, organization_id=principal.organization_id,
                        asked_by_id=principal.user_id, text=text)
    session.add(question)
    await session.flush()
    await ledger.append(session, actor_id=principal.user_id, action="question.asked",
                        entity_type="question", entity_id=question.id, payload=_record_payload(question))
    return question


async def may_answer(session: AsyncSession, *, principal: Principal | None, auction: Auction) -> bool:
    """Admin, and the institute that owns the auctioned listing, answer questions."""
    if principal is None:
        return False
    if principal.role is Role.admin:
        return True
    if principal.role is not Role.institute:
        return False
    owner = await session.scalar(select(Listing.organization_id).where(Listing.id == auction.listing_id))
    return owner == principal.organization_id


async def answer(session: AsyncSession, *, principal: Principal, question_id: int, text: str) -> Question:
    """Answer a question once, in public (owner institute or admin)."""
    question = await session.get(Question, question_id)
    if question is None:
        raise NotFound("No such question.", code="question_not_found")
    auction = await get_auction(session, auction_id=question.auction_id, principal=principal)
    if not await may_answer(session, principal=principal, auction=auction):
        raise Forbidden("Only the owning institute or admin answer questions.", code="not_owner")
    # compare-and-set: of two racing answers only the first one lands
    done = await session.execute(
        update(Question).where(Question.id == question.id, Question.answer.is_(None))
        .values(answer=text, answered_by_id=principal.user_id, answered_at=utcnow())
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("This question is already answered.", code="already_answered")
    await session.refresh(question)
    await ledger.append(session, actor_id=principal.user_id, action="question.answered",
                        entity_type="question", entity_id=question.id, payload=_record_payload(question))
    return question


def to_out(question: Question, principal: Principal | None) -> QuestionOut:
    """The question as anyone may see it: never who asked, only whether the caller did."""
    out = QuestionOut.model_validate(question)
    out.mine = principal is not None and principal.organization_id == question.organization_id \
        and principal.role is Role.enterprise
    return out


async def list_questions(
    session: AsyncSession, *, principal: Principal | None, auction_id: int
) -> list[QuestionOut]:
    """Answered questions for all; pending ones to their asker, the owner, admin and auditor."""
    auction = await get_auction(session, auction_id=auction_id, principal=principal)
    stmt = select(Question).where(Question.auction_id == auction.id)
    sees_pending = (principal is not None and principal.is_staff_reader) or await may_answer(
        session, principal=principal, auction=auction)
    if not sees_pending:
        visible = Question.answer.is_not(None)
        if principal is not None and principal.role is Role.enterprise:
            visible = or_(visible, Question.organization_id == principal.organization_id)
        stmt = stmt.where(visible)
    rows = (await session.scalars(stmt.order_by(Question.id).limit(MAX_LISTED))).all()
    return [to_out(q, principal) for q in rows]


async def pending_for_owner(session: AsyncSession, *, principal: Principal) -> list[Question]:
    """Unanswered questions on the auctions of the caller's institute's listings (the console)."""
    stmt = (select(Question).join(Auction, Auction.id == Question.auction_id)
            .join(Listing, Listing.id == Auction.listing_id)
            .where(Question.answer.is_(None)))
    if principal.role is not Role.admin:
        stmt = stmt.where(Listing.organization_id == principal.organization_id)
    return list((await session.scalars(stmt.order_by(Question.id).limit(MAX_LISTED))).all())
