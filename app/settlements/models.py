"""Settlements: what the winner owes and the institute receives, once per sold auction."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin, str_enum


class SettlementStatus(StrEnum):
    pending_payment = "pending_payment"
    paid = "paid"
    completed = "completed"
    defaulted = "defaulted"


class Settlement(IdMixin, TimestampMixin, Base):
    """attempt 1 is the winner's settlement; attempt 2 the runner-up's second chance."""

    __tablename__ = "settlements"
    __table_args__ = (
        UniqueConstraint("auction_id", "attempt"),
        Index("ix_settlements_created_at_id", "created_at", "id"),
    )

    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="RESTRICT"))
    attempt: Mapped[int]
    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="RESTRICT"))
    institute_organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    buyer_organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="RESTRICT"))
    paddle: Mapped[str] = mapped_column(String(8))
    currency: Mapped[str] = mapped_column(String(3))
    hammer_price: Mapped[Decimal]
    buyer_premium_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    buyer_premium: Mapped[Decimal]
    seller_commission_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    seller_commission: Mapped[Decimal]
    deposit_applied: Mapped[Decimal]
    amount_due: Mapped[Decimal]
    due_date: Mapped[date]
    status: Mapped[SettlementStatus] = mapped_column(
        str_enum(SettlementStatus, "settlement_status"), default=SettlementStatus.pending_payment,
        index=True,
    )
    bid_count: Mapped[int]
    bid_trail_sha256: Mapped[str] = mapped_column(String(64))
    second_chance_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("settlements.id", ondelete="RESTRICT")
    )
    payment_reference: Mapped[str | None] = mapped_column(String(128))
    paid_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    defaulted_at: Mapped[datetime | None]
