"""Sessions and their session-wide registrations (lots are auctions with a session_id)."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.auctions.models import RATE, DepositStatus, RegistrationStatus
from app.db import Base, IdMixin, TimestampMixin, str_enum


class SessionMode(StrEnum):
    timed = "timed"  # every lot open together, closing one after another by the stagger
    live = "live"  # one lot at a time, the next lot_gap_seconds after the last one closed


class SessionStatus(StrEnum):
    """Stored statuses; running and paused are read from the lots and the clock."""

    draft = "draft"
    published = "published"
    running = "running"
    paused = "paused"
    finished = "finished"
    cancelled = "cancelled"


class AuctionSession(IdMixin, TimestampMixin, Base):
    __tablename__ = "auction_sessions"
    __table_args__ = (
        CheckConstraint("lot_duration_seconds > 0", name="lot_duration_positive"),
        CheckConstraint("bid_increment > 0", name="increment_positive"),
    )

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(5000))
    mode: Mapped[SessionMode] = mapped_column(str_enum(SessionMode, "session_mode"))
    status: Mapped[SessionStatus] = mapped_column(
        str_enum(SessionStatus, "session_status"), default=SessionStatus.draft, index=True
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime]
    lot_duration_seconds: Mapped[int]
    stagger_seconds: Mapped[int | None]
    lot_gap_seconds: Mapped[int | None]
    deposit_amount: Mapped[Decimal]
    bid_increment: Mapped[Decimal]
    window_seconds: Mapped[int]
    extension_seconds: Mapped[int]
    max_extension_seconds: Mapped[int | None]
    buyer_premium_rate: Mapped[Decimal] = mapped_column(RATE)
    seller_commission_rate: Mapped[Decimal] = mapped_column(RATE)
    payment_days: Mapped[int]
    registration_closes_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # while paused: when the pause began on the Redis clock; its ms are the lots' pause token
    paused_at: Mapped[datetime | None]


class SessionRegistration(IdMixin, TimestampMixin, Base):
    """One enterprise's registration for every lot: one deposit, one paddle. Qualifying it
    makes a qualified per-lot Registration (same paddle) for each lot, linked back here."""

    __tablename__ = "session_registrations"
    __table_args__ = (
        UniqueConstraint("session_id", "organization_id"),
        UniqueConstraint("session_id", "paddle"),
        UniqueConstraint("deposit_reference"),
    )

    session_id: Mapped[int] = mapped_column(ForeignKey("auction_sessions.id", ondelete="RESTRICT"))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    status: Mapped[RegistrationStatus] = mapped_column(
        str_enum(RegistrationStatus, "registration_status"), default=RegistrationStatus.pending
    )
    paddle: Mapped[str | None] = mapped_column(String(8))
    deposit_reference: Mapped[str | None] = mapped_column(String(128))
    # held once qualified; applied to the first lot he wins, released when he wins none.
    deposit_status: Mapped[DepositStatus | None] = mapped_column(str_enum(DepositStatus, "deposit_status"))
    qualified_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
