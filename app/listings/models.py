"""Outcome listings: what an institute offers for transfer or licence."""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin, str_enum


class IpType(StrEnum):
    patent = "patent"
    software_copyright = "software_copyright"
    know_how = "know_how"
    other = "other"


class TransferMode(StrEnum):
    assignment = "assignment"
    exclusive_license = "exclusive_license"
    non_exclusive_license = "non_exclusive_license"


class ListingStatus(StrEnum):
    draft = "draft"
    pending_review = "pending_review"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"
    in_auction = "in_auction"
    sold = "sold"
    unsold = "unsold"


class Listing(IdMixin, TimestampMixin, Base):
    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint("trl BETWEEN 1 AND 9", name="trl_range"),
        CheckConstraint("starting_price > 0", name="starting_price_positive"),
        CheckConstraint(
            "reserve_price IS NULL OR reserve_price >= starting_price", name="reserve_not_below_start"
        ),
    )

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(40), index=True)
    ip_type: Mapped[IpType] = mapped_column(str_enum(IpType, "ip_type"))
    patent_numbers: Mapped[list[str]] = mapped_column(JSON, default=list)
    trl: Mapped[int]
    transfer_mode: Mapped[TransferMode] = mapped_column(str_enum(TransferMode, "transfer_mode"))
    starting_price: Mapped[Decimal]
    reserve_price: Mapped[Decimal | None]
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    status: Mapped[ListingStatus] = mapped_column(
        str_enum(ListingStatus, "listing_status"), default=ListingStatus.draft, index=True
    )
    rejection_reason: Mapped[str | None] = mapped_column(String(2000))
    submitted_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
