"""Auction, registration and bid requests and responses."""

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BeforeValidator,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)

from app.auctions.domain.registry import RoundKind
from app.auctions.models import (
    AuctionOutcome,
    AuctionStatus,
    BidChannel,
    RegistrationStatus,
    UnsoldReason,
)
from app.schemas import DbId, Money, RequestModel, ResponseModel, Timestamp, TimestampIn, json_int

RATE_PATTERN = r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$"
_RATE_RE = re.compile(RATE_PATTERN)
MAX_ROUND_SECONDS = 30 * 24 * 3600


def _parse_rate(value: object) -> Decimal:
    if isinstance(value, Decimal):  # from the database
        return value
    if not isinstance(value, str) or len(value) > 6:
        raise ValueError('a rate is a decimal string between "0" and "1", e.g. "0.05"')
    if not _RATE_RE.match(value):
        raise ValueError("a rate is between 0 and 1 with at most 4 decimal places")
    return Decimal(value)


Rate = Annotated[
    Decimal,
    BeforeValidator(_parse_rate),
    PlainSerializer(lambda d: f"{d:.4f}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": RATE_PATTERN, "examples": ["0.0500"]}),
]


class RoundIn(RequestModel):
    kind: RoundKind
    starts_at: TimestampIn = Field(examples=["2026-05-01T09:00:00.000Z"])
    ends_at: TimestampIn = Field(
        examples=["2026-05-01T10:00:00.000Z"], description="after starts_at, within 30 days")
    step: Money | None = Field(default=None, description="dutch: the price drop per interval")
    interval_seconds: json_int(ge=1, le=86400) | None = Field(
        default=None, description="dutch: seconds between drops (or interval_ms)")
    interval_ms: json_int(ge=1, le=86_400_000) | None = Field(
        default=None, description="dutch: milliseconds between drops (or interval_seconds)")
    floor: Money | None = Field(default=None, description="dutch: the lowest clock price")
    advance: json_int(ge=1, le=1000) | None = Field(
        default=None, description="non-final rounds: how many of the best bidders go on")

    @model_validator(mode="after")
    def _order(self) -> "RoundIn":
        if self.interval_seconds is not None and self.interval_ms is not None:
            raise ValueError("give interval_seconds or interval_ms, not both")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (self.ends_at - self.starts_at).total_seconds() > MAX_ROUND_SECONDS:
            raise ValueError("a round lasts at most 30 days")
        return self


class AntiSniping(RequestModel):
    window_seconds: json_int(ge=0, le=3600) = 0
    extension_seconds: json_int(ge=0, le=3600) = 0
    hard_close_at: TimestampIn | None = Field(
        default=None, examples=["2026-05-01T10:30:00.000Z"],
        description="never before the last round's ends_at")


class AuctionCreate(RequestModel):
    listing_id: DbId
    rounds: Annotated[list[RoundIn], Field(min_length=1, max_length=5)]
    bid_increment: Money
    deposit_amount: Money
    anti_sniping: AntiSniping = AntiSniping()
    buyer_premium_rate: Rate = Decimal("0")
    seller_commission_rate: Rate = Decimal("0")
    payment_days: json_int(ge=1, le=365) = 30

    @model_validator(mode="after")
    def _rounds_in_sequence(self) -> "AuctionCreate":
        for before, after in zip(self.rounds, self.rounds[1:], strict=False):
            if after.starts_at < before.ends_at:
                raise ValueError("each round must start after the previous one ends")
        hard = self.anti_sniping.hard_close_at
        if hard is not None and hard < self.rounds[-1].ends_at:
            raise ValueError("hard_close_at must not be before the last round's ends_at")
        return self


class RoundOut(ResponseModel):
    round_index: int
    kind: str
    starts_at: Timestamp
    ends_at: Timestamp
    step: Money | None = None
    interval_ms: int | None = None
    floor: Money | None = None
    advance: int | None = None
    closed_at: Timestamp | None = None
    final_ends_at: Timestamp | None = None


class AntiSnipingOut(ResponseModel):
    window_seconds: int
    extension_seconds: int
    hard_close_at: Timestamp | None


class AuctionOut(ResponseModel):
    """An auction with its live state, read from the engine at server_time."""

    id: int
    listing_id: int
    listing_title: str
    status: AuctionStatus
    currency: str
    starting_price: Money
    reserve_price: Money | None = Field(description="only for the owner, admin and auditor")
    bid_increment: Money
    deposit_amount: Money
    anti_sniping: AntiSnipingOut
    buyer_premium_rate: Rate
    seller_commission_rate: Rate
    payment_days: int
    rounds: list[RoundOut]
    current_round: int | None
    current_round_kind: str | None
    current_price: Money | None
    minimum_next_bid: Money | None
    leading_paddle: str | None
    starts_at: Timestamp | None
    ends_at: Timestamp | None
    bid_count: int
    outcome: AuctionOutcome | None
    server_time: Timestamp
    created_at: Timestamp
    session_id: int | None = Field(default=None, description="the session this auction is a lot of")
    lot_number: int | None = None


class AuctionResult(ResponseModel):
    """The outcome of a closed auction."""

    auction_id: int
    outcome: AuctionOutcome
    winning_paddle: str | None
    hammer_price: Money | None
    closed_at: Timestamp
    settlement_id: int | None = Field(
        default=None, description="the settlement of a sold auction, once it exists"
    )
    unsold_reason: UnsoldReason | None = Field(
        default=None,
        description="why an unsold auction did not sell (no_bids: nobody bid in its deciding round;"
        " reserve_not_met: its best bid was under the reserve); told to the listing's institute,"
        " admin and auditor only, null for everyone else and for a sold auction",
    )


class RegistrationOut(ResponseModel):
    id: int
    auction_id: int
    organization_id: int
    status: RegistrationStatus
    paddle: str | None
    deposit_reference: str | None
    created_at: Timestamp
    qualified_at: Timestamp | None


class RegistrationApprove(RequestModel):
    deposit_reference: Annotated[
        str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._/:-]+$")
    ]


class BidCreate(RequestModel):
    """english and sealed: amount; english proxy: max_amount instead (secret: the engine bids
    for you by the increment up to it); dutch: amount is optional (the most you pay; without
    it you take the lot at the clock price). A body the round's kind cannot take (both or
    neither in english, max_amount outside english) is refused with 422 invalid_bid."""

    amount: Money | None = None
    max_amount: Money | None = Field(default=None, description="english proxy maximum (secret)")


class AbsenteeOut(ResponseModel):
    """An absentee maximum left before the lot opens: it bids for him from the opening."""

    status: Literal["absentee"] = "absentee"
    auction_id: int
    paddle: str
    max_amount: Money
    left_at: Timestamp = Field(description="when this maximum was left (a replacement's time)")


class FloorBidCreate(RequestModel):
    """A bid raised in the room, entered by the clerk for the bidder's paddle."""

    paddle: str = Field(min_length=1, max_length=8, pattern=r"^[A-Za-z0-9_-]+$")
    amount: Money


class BidOut(ResponseModel):
    """An accepted bid; organization_id is shown to admin and auditor only."""

    id: int = Field(description="0 in the answer to a sealed bid: row ids would count bids")
    sequence: int = Field(description="0 in the answer to a sealed bid: it would count bids")
    round_index: int
    amount: Money
    paddle: str
    placed_at: Timestamp
    ends_at: Timestamp
    organization_id: int | None = None
    channel: BidChannel = Field(default=BidChannel.online,
                                description="online, absentee (applied at the opening) or floor")
    clerk_id: int | None = Field(default=None, description="the clerk of a floor bid (admin, "
                                 "auditor)")
