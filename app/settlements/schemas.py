"""Settlement requests and responses."""

from datetime import date
from typing import Annotated

from pydantic import Field, StringConstraints

from app.auctions.schemas import Rate
from app.schemas import Money, MoneyOut, RequestModel, ResponseModel, Timestamp
from app.settlements.models import SettlementStatus


class PaymentConfirmation(RequestModel):
    payment_reference: Annotated[
        str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._/:#-]+$")
    ]


class Party(ResponseModel):
    """One side of a sale: the buyer's enterprise or the seller's institute."""

    organization_id: int
    name: str
    registration_code: str | None = Field(description="the unified social credit code, if recorded")


class SettlementOut(ResponseModel):
    """What the buyer owes and the institute receives for one sale (attempt 2: second chance).

    Whoever reads a settlement (admin, auditor, its institute and its buyer) sees both parties:
    the buyer's organisation and the seller's institute.
    """

    id: int
    auction_id: int
    attempt: int = Field(description="1 for the winner, 2 for the runner-up's second chance")
    second_chance_of_id: int | None = Field(description="the defaulted settlement this replaces")
    listing_id: int
    institute_organization_id: int
    buyer_organization_id: int
    buyer: Party = Field(description="the buying enterprise")
    seller: Party = Field(description="the selling institute")
    registration_id: int
    paddle: str
    currency: str
    hammer_price: Money
    buyer_premium_rate: Rate
    buyer_premium: Money = Field(description="hammer_price x buyer_premium_rate, to the cent")
    seller_commission_rate: Rate
    seller_commission: Money = Field(description="hammer_price x seller_commission_rate, to the cent")
    deposit_applied: MoneyOut = Field(description="0.00 when his deposit went to another lot")
    amount_due: Money = Field(description="hammer_price + buyer_premium - deposit_applied")
    due_date: date
    status: SettlementStatus
    bid_count: int
    bid_trail_sha256: str = Field(
        description="SHA-256 over one line per bid in sequence order: "
        "'{sequence}|{round_index}|{paddle}|{amount}|{placed_at}\\n', fields as "
        "GET /auctions/{id}/bids shows them"
    )
    payment_reference: str | None
    paid_at: Timestamp | None
    completed_at: Timestamp | None
    defaulted_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp
