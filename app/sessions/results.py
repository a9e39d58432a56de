"""The results notice of a finished session: every lot's outcome and the totals, JSON or CSV."""

import csv
import io

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auctions.models import Auction, AuctionOutcome, AuctionStatus, Registration
from app.errors import Conflict
from app.listings.models import Listing
from app.schemas import format_money
from app.sessions import rules
from app.sessions.models import AuctionSession, SessionStatus
from app.sessions.schemas import ResultLot, ResultTotals, SessionResults

CSV_COLUMNS = ("lot_number", "auction_id", "title", "outcome", "hammer_price", "winning_paddle")


def _outcome(lot: Auction) -> rules.LotStatus:
    if lot.status is AuctionStatus.closed and lot.outcome is AuctionOutcome.sold:
        return rules.LotStatus.sold
    return rules.LotStatus.passed if lot.status is AuctionStatus.closed else rules.LotStatus.withdrawn


async def results(session: AsyncSession, *, event: AuctionSession) -> SessionResults:
    """Sold, passed and withdrawn lots with hammer prices and paddles; 409 until it is over."""
    if event.status not in (SessionStatus.finished, SessionStatus.cancelled):
        raise Conflict("The session has not finished yet.", code="session_not_finished")
    rows = (await session.execute(
        select(Auction, Listing.title, Registration.paddle)
        .join(Listing, Listing.id == Auction.listing_id)
        .outerjoin(Registration, Registration.id == Auction.winning_registration_id)
        .where(Auction.session_id == event.id).order_by(Auction.lot_number)
    )).all()
    lots = [
        ResultLot(lot_number=lot.lot_number, auction_id=lot.id, title=title, outcome=_outcome(lot).value,
                  hammer_price=lot.hammer_price if _outcome(lot) is rules.LotStatus.sold else None,
                  winning_paddle=paddle if _outcome(lot) is rules.LotStatus.sold else None)
        for lot, title, paddle in rows
    ]
    totals = rules.totals([(rules.LotStatus(lot.outcome), lot.hammer_price) for lot in lots])
    return SessionResults(session_id=event.id, title=event.title, status=event.status, lots=lots,
                          totals=ResultTotals(**{f: getattr(totals, f) for f in ResultTotals.model_fields}))


def _cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula is quoted with a '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(notice: SessionResults) -> str:
    """The lots of the notice as CSV (money as decimal strings), one row per lot."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for lot in notice.lots:
        writer.writerow([lot.lot_number, lot.auction_id, _cell(lot.title), lot.outcome,
                         "" if lot.hammer_price is None else format_money(lot.hammer_price),
                         lot.winning_paddle or ""])
    return out.getvalue()
