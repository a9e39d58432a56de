"""Auctions, their rounds, bidder registrations and the durable bid trail."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, IdMixin, TimestampMixin, str_enum, utcnow

RATE = Numeric(6, 4)  # premium and commission rates, e.g. 0.0500


class AuctionStatus(StrEnum):
    scheduled = "scheduled"
    open = "open"
    closed = "closed"
    cancelled = "cancelled"


class AuctionOutcome(StrEnum):
    sold = "sold"
    unsold = "unsold"


class UnsoldReason(StrEnum):
    """Why a closed auction did not sell: nobody bid in its deciding round, or its best bid
    was under the reserve."""

    no_bids = "no_bids"
    reserve_not_met = "reserve_not_met"


class DepositStatus(StrEnum):
    held = "held"
    applied = "applied"
    released = "released"
    forfeited = "forfeited"


class LotHold(StrEnum):
    """Why a session's lot is not in the engine yet (its rounds are not loaded into Redis)."""

    draft = "draft"  # its session is a draft: the catalogue is not public yet
    queued = "queued"  # a live session's lot waiting for its turn


class BidChannel(StrEnum):
    """How a bid reached the engine: the bidder's own request, his absentee maximum applied at
    the lot's opening, or the clerk entering a paddle's bid in the room."""

    online = "online"
    absentee = "absentee"
    floor = "floor"


class RegistrationStatus(StrEnum):
    pending = "pending"
    qualified = "qualified"
    rejected = "rejected"


class Auction(IdMixin, TimestampMixin, Base):
    __tablename__ = "auctions"
    __table_args__ = (
        CheckConstraint("bid_increment > 0", name="increment_positive"),
        CheckConstraint("deposit_amount >= 0", name="deposit_not_negative"),
        CheckConstraint("buyer_premium_rate >= 0 AND buyer_premium_rate <= 1", name="premium_rate"),
        CheckConstraint(
            "seller_commission_rate >= 0 AND seller_commission_rate <= 1", name="commission_rate"
        ),
        UniqueConstraint("session_id", "lot_number"),
    )

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="RESTRICT"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[AuctionStatus] = mapped_column(
        str_enum(AuctionStatus, "auction_status"), default=AuctionStatus.scheduled, index=True
    )
    currency: Mapped[str] = mapped_column(String(3))
    starting_price: Mapped[Decimal]
    reserve_price: Mapped[Decimal | None]
    bid_increment: Mapped[Decimal]
    deposit_amount: Mapped[Decimal]
    window_seconds: Mapped[int]
    extension_seconds: Mapped[int]
    hard_close_at: Mapped[datetime | None]
    buyer_premium_rate: Mapped[Decimal] = mapped_column(RATE)
    seller_commission_rate: Mapped[Decimal] = mapped_column(RATE)
    payment_days: Mapped[int]
    outcome: Mapped[AuctionOutcome | None] = mapped_column(str_enum(AuctionOutcome, "auction_outcome"))
    unsold_reason: Mapped[UnsoldReason | None] = mapped_column(str_enum(UnsoldReason, "unsold_reason"))
    winning_registration_id: Mapped[int | None] = mapped_column(BigId)
    hammer_price: Mapped[Decimal | None]
    closed_at: Mapped[datetime | None]
    # A lot of a session (app/sessions); lot_hold set: not loaded into the engine yet.
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("auction_sessions.id", ondelete="RESTRICT"), index=True
    )
    lot_number: Mapped[int | None]
    lot_hold: Mapped[LotHold | None] = mapped_column(str_enum(LotHold, "lot_hold"))


class AuctionRound(IdMixin, Base):
    __tablename__ = "auction_rounds"
    __table_args__ = (UniqueConstraint("auction_id", "round_index"),)

    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"))
    round_index: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # Kind-specific settings (dutch step and floor, how many advance), kept as given.
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    closed_at: Mapped[datetime | None]
    final_ends_at: Mapped[datetime | None]


# The spelling-free form of a deposit reference, the same in SQLite and PostgreSQL: references
# are ASCII (app/auctions/schemas.py), which lower() folds alike in both.
DEPOSIT_REFERENCE_KEY = "lower(trim(deposit_reference))"


def deposit_reference_key(reference: str) -> str:
    """DEPOSIT_REFERENCE_KEY computed in Python."""
    return reference.strip(" ").lower()


class Registration(IdMixin, TimestampMixin, Base):
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("auction_id", "organization_id"),
        UniqueConstraint("auction_id", "paddle"),
        UniqueConstraint("deposit_reference"),
        # a deposit qualifies one registration, however its reference is spelt: the key is
        # unique, and always the reference's key (a column, not an expression index, whose
        # text PostgreSQL reflects otherwise than it was written)
        UniqueConstraint("deposit_reference_key"),
        CheckConstraint(
            "(deposit_reference IS NULL AND deposit_reference_key IS NULL)"
            f" OR deposit_reference_key = {DEPOSIT_REFERENCE_KEY}",
            name="deposit_reference_key_matches"),
    )

    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="RESTRICT"))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[RegistrationStatus] = mapped_column(
        str_enum(RegistrationStatus, "registration_status"), default=RegistrationStatus.pending
    )
    paddle: Mapped[str | None] = mapped_column(String(8))
    deposit_reference: Mapped[str | None] = mapped_column(String(128))
    deposit_reference_key: Mapped[str | None] = mapped_column(String(128))
    # held once qualified; at settlement applied (winner), released (others) or forfeited.
    deposit_status: Mapped[DepositStatus | None] = mapped_column(str_enum(DepositStatus, "deposit_status"))
    qualified_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # A session lot's registration made by qualifying the session registration: its deposit
    # is the session's, shared by all his lots (applied once, to the first lot he wins).
    session_registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("session_registrations.id", ondelete="RESTRICT"), index=True
    )


class Bid(IdMixin, Base):
    """An accepted bid; the sequence is the order the engine accepted it in."""

    __tablename__ = "bids"
    __table_args__ = (
        UniqueConstraint("auction_id", "sequence"),
        Index("ix_bids_auction_id_amount", "auction_id", "amount"),
    )

    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="RESTRICT"))
    round_index: Mapped[int]
    sequence: Mapped[int]
    # The bidder is the enterprise (one registration per auction), whichever of its users bid.
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"))
    paddle: Mapped[str] = mapped_column(String(8))
    amount: Mapped[Decimal]
    placed_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # The user whose request placed it; None for a bid recovered from the engine's event
    # stream at settlement (accepted in Redis, but its journal write never happened).
    placed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    event_id: Mapped[str] = mapped_column(String(64))
    # english proxy: the leader's secret maximum in force after this bid (on the bid that left
    # him leading), so a round rebuilt from SQL keeps bidding for him. Never served.
    proxy_max: Mapped[Decimal | None]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[BidChannel] = mapped_column(
        str_enum(BidChannel, "bid_channel"), default=BidChannel.online,
        server_default=BidChannel.online.value)
    # the clerk (admin user) who entered a floor bid; None on other channels
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))


class AbsenteeBid(IdMixin, TimestampMixin, Base):
    """A qualified bidder's proxy maximum left before an english lot opens (one per bidder,
    replaceable until the opening); applied at the opening in left_at order, so of equal
    maxima the earlier one leads."""

    __tablename__ = "absentee_bids"
    __table_args__ = (UniqueConstraint("auction_id", "organization_id"),)

    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="RESTRICT"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"))
    max_amount: Mapped[Decimal]
    # when the maximum in force was left (a replacement's time): the order of application
    left_at: Mapped[datetime] = mapped_column(default=utcnow)
    placed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # the request's Idempotency-Key: its retry is answered as first, even once the lot opened
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    applied_at: Mapped[datetime | None]
