"""Lot documents, their bytes (when kept in SQL) and confidentiality-terms acceptances."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigId, IdMixin, str_enum, utcnow


class DocumentKind(StrEnum):
    patent_certificate = "patent_certificate"
    technical_report = "technical_report"
    valuation = "valuation"
    other = "other"


class Visibility(StrEnum):
    public = "public"
    data_room = "data_room"


class Document(IdMixin, Base):
    """One document of a listing; its bytes are found by their SHA-256 (content-addressed)."""

    __tablename__ = "documents"
    __table_args__ = (CheckConstraint("size_bytes > 0", name="size_positive"),)

    listing_id: Mapped[int] = mapped_column(ForeignKey("listings.id", ondelete="RESTRICT"), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind, "document_kind"))
    visibility: Mapped[Visibility] = mapped_column(str_enum(Visibility, "document_visibility"))
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigId)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentChunk(Base):
    """The bytes of a document stored in SQL, in chunks so neither side holds a whole file."""

    __tablename__ = "document_chunks"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    chunk_index: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class NdaAcceptance(IdMixin, Base):
    """An enterprise accepted an auction's confidentiality terms: its data room opens to it."""

    __tablename__ = "nda_acceptances"
    __table_args__ = (UniqueConstraint("auction_id", "organization_id"),)

    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="RESTRICT"))
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    accepted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)
