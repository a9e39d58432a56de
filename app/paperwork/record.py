"""The auction record (拍卖笔录, Auction Law art. 53): the auction's facts and every bid in order.

Bids are taken from an iterator and written row by row, so a 10,000-bid record never holds
more than the document being built (bench/paperwork.py measures its time and peak memory)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from fpdf.enums import XPos, YPos

from app.paperwork import layout
from app.paperwork.layout import FONT, row, section


def bid_channel(bid: Any) -> str:
    """How a bid was placed: online, absentee or floor.

    Bid.channel is being added to app/auctions/models.py by another change; until it lands every
    bid was placed online through the API. This is the one place that reads it: once the column
    exists, this becomes `return bid.channel` (an enum's value if it is one)."""
    channel = getattr(bid, "channel", None)
    if channel is None:
        return "online"
    return getattr(channel, "value", channel)


@dataclass(frozen=True)
class BidLine:
    sequence: int
    round_index: int
    paddle: str
    amount: Decimal
    placed_at: datetime
    channel: str


@dataclass(frozen=True)
class RecordFacts:
    auction_id: int
    lot_number: int | None
    listing_id: int
    listing_title: str
    seller: str
    currency: str
    starting_price: Decimal
    bid_increment: Decimal
    reserve_met: str  # what the outcome says of the reserve, in words
    outcome: str
    hammer_price: Decimal | None
    winning_paddle: str | None
    opened_at: datetime | None
    closed_at: datetime
    bid_count: int


def reference(facts: RecordFacts) -> str:
    return f"TA-REC-{facts.auction_id:08d}"


COLUMNS = (  # (Chinese, English, width mm, align)
    ("序号", "No.", 18, "R"), ("轮次", "Round", 16, "R"), ("竞买号", "Paddle", 24, "L"),
    ("出价金额", "Amount", 42, "R"), ("时间", "Time (UTC)", 50, "L"), ("渠道", "Channel", 24, "L"),
)
CHANNELS = {"online": "网络 online", "absentee": "委托 absentee", "floor": "现场 floor"}


def render(facts: RecordFacts, bids: Iterable[BidLine]) -> bytes:
    """The record as an (unsigned) PDF: the facts, then the bids in the order accepted."""
    pdf = layout.new_document(
        title="拍卖笔录 Auction record", subject=reference(facts), made_at=facts.closed_at)
    layout.heading(pdf, "拍卖笔录", "Auction Record",
                   f"编号 No. {reference(facts)} · 结束 Closed {layout.utc(facts.closed_at)}")
    section(pdf, "拍卖概况", "The auction")
    lot = f" · 第 {facts.lot_number} 号拍品 Lot {facts.lot_number}" if facts.lot_number else ""
    row(pdf, "拍卖会", "Auction", f"#{facts.auction_id}{lot}\n开始 Opened {layout.utc(facts.opened_at)}"
        f"\n结束 Closed {layout.utc(facts.closed_at)}")
    row(pdf, "标的", "Listing", f"{facts.listing_title} (#{facts.listing_id})")
    row(pdf, "出让方", "Seller", facts.seller)
    row(pdf, "起拍价 / 加价幅度", "Start / increment", f"{layout.money(facts.starting_price, facts.currency)}"
        f" / {layout.money(facts.bid_increment, facts.currency)}")
    hammer = layout.money(facts.hammer_price, facts.currency) if facts.hammer_price is not None else "—"
    row(pdf, "结果", "Outcome", f"{facts.outcome} · {facts.reserve_met}\n成交价 Hammer {hammer}"
        f" · 买受人竞买号 Winning paddle {facts.winning_paddle or '—'}")
    row(pdf, "出价次数", "Bids", str(facts.bid_count))
    section(pdf, "出价记录（按受理顺序）", "Every bid, in the order accepted")
    _table_header(pdf)
    for bid in bids:
        if pdf.get_y() + 5 > pdf.page_break_trigger:
            pdf.add_page()
            _table_header(pdf)
        _bid_row(pdf, bid, facts.currency)
    if facts.bid_count == 0:
        layout.paragraph(pdf, "无出价。No bids.")
    return layout.output(pdf)


def _table_header(pdf) -> None:
    pdf.set_font(FONT, size=8)
    pdf.set_fill_color(235, 239, 245)
    for zh, en, width, align in COLUMNS:
        pdf.cell(width, 6, f"{zh} {en}", border="B", align=align, fill=True)
    pdf.ln(6)


def _bid_row(pdf, bid: BidLine, currency: str) -> None:
    pdf.set_font(FONT, size=8.5)
    values = (
        str(bid.sequence), str(bid.round_index), bid.paddle, layout.money(bid.amount, currency),
        layout.utc(bid.placed_at, ms=True), CHANNELS.get(bid.channel, bid.channel),
    )
    for (_, _, width, align), value in zip(COLUMNS, values, strict=True):
        pdf.cell(width, 4.8, value, align=align)
    pdf.cell(0, 4.8, "", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
