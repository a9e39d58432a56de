"""The transaction confirmation (成交确认书) of a settlement, in Chinese with English beside it.

China's Auction Law (art. 52) has buyer and auctioneer sign a confirmation after the hammer;
a patent's transfer is registered on it. Every amount here is the settlement's own, to the
cent; the amount due is also written in capital numerals, as contracts and cheques require."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from app.paperwork import layout
from app.paperwork.layout import money, rate, row, section
from app.paperwork.numerals import capital_yuan


@dataclass(frozen=True)
class Party:
    name: str
    registration_code: str | None  # 统一社会信用代码

    def describe(self) -> str:
        code = self.registration_code or "—"
        return f"{self.name}\n统一社会信用代码 Unified social credit code: {code}"


@dataclass(frozen=True)
class ConfirmationFacts:
    """What the confirmation states, read from the settlement and what it refers to."""

    settlement_id: int
    attempt: int
    auction_id: int
    lot_number: int | None
    listing_id: int
    listing_title: str
    ip_type: str
    patent_numbers: tuple[str, ...]
    seller: Party
    buyer: Party
    paddle: str
    currency: str
    hammer_price: Decimal
    buyer_premium_rate: Decimal
    buyer_premium: Decimal
    seller_commission_rate: Decimal
    seller_commission: Decimal
    deposit_applied: Decimal
    amount_due: Decimal
    due_date: date
    closed_at: datetime | None
    bid_count: int
    bid_trail_sha256: str
    settled_at: datetime  # the settlement's creation: the document's date


def reference(facts: ConfirmationFacts) -> str:
    return f"TA-CONF-{facts.settlement_id:08d}"


DEFAULT_TERMS_ZH = (
    "买受人应于付款期限届满前将应付金额付至平台指定账户。逾期未付的，视为买受人违约：其已缴保证金"
    "不予退还，平台有权解除本次成交，并可将标的以买受人的出价向其他竞买人（次高出价人）提供或重新"
    "拍卖；因此产生的费用及损失由买受人承担。出让方在买受人付清应付金额后，按约定办理权利转让登记。"
)
DEFAULT_TERMS_EN = (
    "The buyer shall pay the amount due into the platform's designated account by the due date. "
    "Unpaid after it, the buyer is in default: the deposit is forfeited, the platform may cancel "
    "this sale and offer the lot to the runner-up at that bidder's best bid or auction it again, "
    "and the buyer bears the costs and losses that follow. Once the amount due is paid, the "
    "seller has the transfer of the rights registered as agreed."
)


def render(facts: ConfirmationFacts) -> bytes:
    """The confirmation as an (unsigned) PDF."""
    pdf = layout.new_document(
        title="成交确认书 Transaction confirmation", subject=reference(facts), made_at=facts.settled_at)
    layout.heading(pdf, "成交确认书", "Transaction Confirmation",
                   f"编号 No. {reference(facts)} · 日期 Date {facts.settled_at:%Y-%m-%d}")
    _parties(pdf, facts)
    _amounts(pdf, facts)
    section(pdf, "违约条款", "Default terms")
    layout.paragraph(pdf, DEFAULT_TERMS_ZH, size=9)
    layout.paragraph(pdf, DEFAULT_TERMS_EN, size=8.5)
    section(pdf, "签署", "Signature")
    layout.paragraph(pdf, (
        "本确认书由平台以其数字证书电子签名；任何字节被改动，签名即失效。可用 techauction verify-pdf "
        "离线核验，其 SHA-256 记于平台审计账本。\nThis confirmation is signed electronically with "
        "the platform's certificate; changing any byte invalidates the signature. Check it offline "
        "with `techauction verify-pdf`; its SHA-256 is recorded in the platform's audit ledger."
    ), size=8)
    pdf.ln(4)
    layout.paragraph(pdf, "买受人（签章） Buyer (signature and seal): ______________________\n"
                     "拍卖平台（电子签名） Platform: signed electronically", size=9)
    return layout.output(pdf)


def _parties(pdf, facts: ConfirmationFacts) -> None:
    section(pdf, "交易各方与标的", "Parties and lot")
    row(pdf, "拍卖平台", "Platform", f"{layout.PLATFORM_ZH}\n{layout.PLATFORM_EN}")
    lot = f" · 第 {facts.lot_number} 号拍品 Lot {facts.lot_number}" if facts.lot_number else ""
    second = " · 次高出价人递补 Second-chance offer" if facts.attempt > 1 else ""
    row(pdf, "拍卖会", "Auction", f"#{facts.auction_id}{lot}{second}\n成交时间 Hammer: "
        f"{layout.utc(facts.closed_at)}")
    patents = ", ".join(facts.patent_numbers) or "—"
    row(pdf, "标的", "Listing", f"{facts.listing_title} (#{facts.listing_id})\n"
        f"类型 Type: {facts.ip_type} · 专利号 Patents: {patents}")
    row(pdf, "出让方（委托人）", "Seller (consignor)", facts.seller.describe())
    row(pdf, "买受人", "Buyer", f"{facts.buyer.describe()}\n竞买号 Paddle: {facts.paddle}")
    row(pdf, "出价记录", "Bid trail",
        f"{facts.bid_count} 次出价 bids · 摘要 SHA-256:\n{facts.bid_trail_sha256}")


def _amounts(pdf, facts: ConfirmationFacts) -> None:
    section(pdf, "成交金额", "Amounts")
    c = facts.currency
    row(pdf, "成交价", "Hammer price", money(facts.hammer_price, c))
    row(pdf, f"买方佣金（{rate(facts.buyer_premium_rate)}）",
        f"Buyer's premium ({rate(facts.buyer_premium_rate)})", money(facts.buyer_premium, c))
    row(pdf, f"卖方佣金（{rate(facts.seller_commission_rate)}）",
        f"Seller's commission ({rate(facts.seller_commission_rate)})",
        f"{money(facts.seller_commission, c)}（由出让方承担 borne by the seller）")
    row(pdf, "已抵扣保证金", "Deposit applied", money(facts.deposit_applied, c))
    due = money(facts.amount_due, c)
    if c == "CNY":
        due += f"\n大写 In words: {capital_yuan(facts.amount_due)}"
    row(pdf, "买受人应付金额", "Amount due from the buyer", due, strong=True)
    row(pdf, "付款期限", "Due date", f"{layout.day(facts.due_date)}（含当日 inclusive）")
