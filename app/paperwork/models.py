"""Signed documents, stored once: what the ledger's digest names is what every download serves.

A signature carries its signing time, so generating again would give other bytes; the first
signed copy is kept (content and its SHA-256), one per (kind, subject)."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, IdMixin, str_enum, utcnow


class PaperKind(StrEnum):
    confirmation = "confirmation"  # of a settlement (subject_id: settlements.id)
    record = "record"  # of an auction (subject_id: auctions.id)


class SignedPaper(IdMixin, Base):
    __tablename__ = "signed_papers"
    __table_args__ = (UniqueConstraint("kind", "subject_id"),)

    kind: Mapped[PaperKind] = mapped_column(str_enum(PaperKind, "paper_kind"))
    subject_id: Mapped[int] = mapped_column(BigId)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
