"""Signed paperwork: read the facts, render, sign with the platform's key, store once, and
record the SHA-256 in the audit ledger in the same transaction.

Generated on first request and kept (app/paperwork/models.py): the signature holds its
signing time, so only a stored copy makes every download the bytes whose digest the ledger
holds. Rendering and signing are CPU work and run in a worker thread."""

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.models import Auction, AuctionOutcome, AuctionRound, AuctionStatus, Bid, UnsoldReason
from app.audit import ledger
from app.audit.models import LedgerEntry
from app.errors import Conflict, NotFound
from app.identity.models import Organization
from app.listings.models import Listing
from app.paperwork import confirmation, record
from app.paperwork.models import PaperKind, SignedPaper
from app.paperwork.signing import PdfSigner
from app.security import Principal, Role
from app.settlements.models import Settlement
from app.settlements.service import get_settlement

ACTIONS = {PaperKind.confirmation: "paperwork.confirmation_signed",
           PaperKind.record: "paperwork.record_signed"}
REASONS = {PaperKind.confirmation: "成交确认书 Transaction confirmation",
           PaperKind.record: "拍卖笔录 Auction record"}
ENTITIES = {PaperKind.confirmation: "settlement", PaperKind.record: "auction"}


@dataclass(frozen=True)
class Paper:
    """A signed document's bytes, its SHA-256 and the file name to download it under."""

    content: bytes
    sha256: str
    filename: str


async def confirmation_pdf(
    session: AsyncSession, *, principal: Principal, settlement_id: int, signer: PdfSigner,
) -> Paper:
    """The settlement's signed confirmation (404 unless the caller may read the settlement)."""
    settlement = await get_settlement(session, principal=principal, settlement_id=settlement_id)
    stored = await _stored(session, PaperKind.confirmation, settlement.id)
    if stored is None:
        facts = await confirmation_facts(session, settlement)
        stored = await _sign_and_store(
            session, kind=PaperKind.confirmation, subject_id=settlement.id, actor=principal,
            signer=signer, render=lambda: confirmation.render(facts),
        )
    return Paper(stored.content, stored.sha256, f"confirmation-{settlement.id}.pdf")


async def record_pdf(
    session: AsyncSession, *, principal: Principal, auction_id: int, signer: PdfSigner,
) -> Paper:
    """The closed auction's signed record: owner institute, admin, auditor (404 for others'
    auctions, 409 auction_not_closed before the close)."""
    auction = await _readable_auction(session, principal, auction_id)
    if auction.status is not AuctionStatus.closed or auction.closed_at is None:
        raise Conflict("The auction has not been closed yet.", code="auction_not_closed")
    stored = await _stored(session, PaperKind.record, auction.id)
    if stored is None:
        facts, bids = await record_facts(session, auction)
        stored = await _sign_and_store(
            session, kind=PaperKind.record, subject_id=auction.id, actor=principal, signer=signer,
            render=lambda: record.render(facts, bids),
        )
    return Paper(stored.content, stored.sha256, f"auction-record-{auction.id}.pdf")


async def _readable_auction(session: AsyncSession, principal: Principal, auction_id: int) -> Auction:
    auction = await session.get(Auction, auction_id)
    if auction is None:
        raise NotFound("No such auction.", code="auction_not_found")
    if principal.is_staff_reader:
        return auction
    owner = await session.scalar(select(Listing.organization_id).where(Listing.id == auction.listing_id))
    if principal.role is Role.institute and owner == principal.organization_id:
        return auction
    raise NotFound("No such auction record.", code="auction_not_found")


async def _stored(session: AsyncSession, kind: PaperKind, subject_id: int) -> SignedPaper | None:
    return await session.scalar(
        select(SignedPaper).where(SignedPaper.kind == kind, SignedPaper.subject_id == subject_id))


async def _sign_and_store(
    session: AsyncSession, *, kind: PaperKind, subject_id: int, actor: Principal,
    signer: PdfSigner, render: Callable[[], bytes],
) -> SignedPaper:
    """Render and sign (in a thread), then keep the copy and its ledger entry; a racing
    request that stored first wins, and its copy is served."""
    content = await asyncio.to_thread(lambda: signer.sign(render(), reason=REASONS[kind]))
    digest = hashlib.sha256(content).hexdigest()
    paper = SignedPaper(kind=kind, subject_id=subject_id, sha256=digest, content=content)
    try:
        async with session.begin_nested():
            session.add(paper)
            await session.flush()
    except IntegrityError:
        winner = await _stored(session, kind, subject_id)
        if winner is None:
            raise
        return winner
    await ledger.append(
        session, actor_id=actor.user_id, action=ACTIONS[kind], entity_type=ENTITIES[kind],
        entity_id=subject_id, payload={"sha256": digest, "bytes": len(content)},
    )
    return paper


def _party(org: Organization) -> confirmation.Party:
    return confirmation.Party(org.name, org.registration_code)


async def confirmation_facts(session: AsyncSession, s: Settlement) -> confirmation.ConfirmationFacts:
    """What the confirmation of settlement s states."""
    auction = await session.get(Auction, s.auction_id)
    listing = await session.get(Listing, s.listing_id)
    seller = await session.get(Organization, s.institute_organization_id)
    buyer = await session.get(Organization, s.buyer_organization_id)
    return confirmation.ConfirmationFacts(
        settlement_id=s.id, attempt=s.attempt, auction_id=s.auction_id, lot_number=auction.lot_number,
        listing_id=listing.id, listing_title=listing.title, ip_type=listing.ip_type.value,
        patent_numbers=tuple(listing.patent_numbers or ()), seller=_party(seller), buyer=_party(buyer),
        paddle=s.paddle, currency=s.currency, hammer_price=s.hammer_price,
        buyer_premium_rate=s.buyer_premium_rate, buyer_premium=s.buyer_premium,
        seller_commission_rate=s.seller_commission_rate, seller_commission=s.seller_commission,
        deposit_applied=s.deposit_applied, amount_due=s.amount_due, due_date=s.due_date,
        closed_at=auction.closed_at, bid_count=s.bid_count, bid_trail_sha256=s.bid_trail_sha256,
        settled_at=s.created_at,
    )


OUTCOMES = {AuctionOutcome.sold: "成交 sold", AuctionOutcome.unsold: "流拍 unsold"}
RESERVE = {UnsoldReason.no_bids: "无人出价 no bids",
           UnsoldReason.reserve_not_met: "未达保留价 reserve not met"}


async def record_facts(
    session: AsyncSession, auction: Auction,
) -> tuple[record.RecordFacts, list[record.BidLine]]:
    """What the record of a closed auction states, and its bids in the order accepted."""
    listing = await session.get(Listing, auction.listing_id)
    seller = await session.get(Organization, listing.organization_id)
    opened_at = await session.scalar(
        select(AuctionRound.starts_at).where(AuctionRound.auction_id == auction.id)
        .order_by(AuctionRound.round_index).limit(1))
    stream = await session.stream_scalars(
        select(Bid).where(Bid.auction_id == auction.id).order_by(Bid.sequence)
        .execution_options(yield_per=2000))
    bids = [
        record.BidLine(b.sequence, b.round_index, b.paddle, b.amount, b.placed_at, record.bid_channel(b))
        async for b in stream
    ]
    winner = await session.scalar(
        select(Settlement.paddle).where(Settlement.auction_id == auction.id, Settlement.attempt == 1))
    facts = record.RecordFacts(
        auction_id=auction.id, lot_number=auction.lot_number, listing_id=listing.id,
        listing_title=listing.title, seller=seller.name, currency=auction.currency,
        starting_price=auction.starting_price, bid_increment=auction.bid_increment,
        reserve_met=RESERVE.get(auction.unsold_reason, "达到保留价 reserve met"),
        outcome=OUTCOMES.get(auction.outcome, "—"), hammer_price=auction.hammer_price,
        winning_paddle=winner, opened_at=opened_at, closed_at=auction.closed_at, bid_count=len(bids),
    )
    return facts, bids


async def ledger_entry_for(session: AsyncSession, sha256: str) -> LedgerEntry | None:
    """The ledger entry that recorded a signed document of this SHA-256, if any."""
    return await session.scalar(
        select(LedgerEntry).where(LedgerEntry.action.in_(ACTIONS.values()),
                                  LedgerEntry.payload.contains(f'"sha256":"{sha256}"')).limit(1))
