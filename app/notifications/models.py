"""The outbox: one notification per event and recipient organisation (its id is stable, the
webhook-id of every delivery), inbox items per user and deliveries the worker claims."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, str_enum, utcnow


class Channel(StrEnum):
    email = "email"
    webhook = "webhook"


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    skipped = "skipped"  # email with no SMTP configured
    dead = "dead"  # retried for the whole window: dead-lettered, an admin may redeliver


class Notification(Base):
    __tablename__ = "notifications"

    # "msg_" + 32 hex: stable across every retry and channel (Standard Webhooks' webhook-id)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    auction_id: Mapped[int | None]
    # what the recipient may see, as JSON scalars (money as strings)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # one notification per fact: a retried change or a re-read stream writes nothing twice
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboxItem(IdMixin, Base):
    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_items_user_id_id", "user_id", "id"),)

    notification_id: Mapped[str] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    read_at: Mapped[datetime | None]


class Webhook(IdMixin, Base):
    __tablename__ = "webhooks"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100))
    # event types it receives; empty: every type
    events: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]


class Delivery(IdMixin, Base):
    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_due", "status", "next_attempt_at"),)

    notification_id: Mapped[str] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "notification_channel"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus, "notification_delivery_status"), default=DeliveryStatus.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    # a claimed row is leased to one worker until then; a killed worker's lease runs out
    lease_until: Mapped[datetime | None]
    lease_token: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class Watch(IdMixin, Base):
    """A user watching a lot: told when it is about to open, and before registration closes."""

    __tablename__ = "watches"
    __table_args__ = (UniqueConstraint("user_id", "auction_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
