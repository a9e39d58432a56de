"""signed papers: the stored, signed transaction confirmations and auction records

Revision ID: d4e1f6a2b8c3
Revises: d4e8a2b6c1f3
Create Date: 2026-12-08 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "d4e1f6a2b8c3"
down_revision: str | Sequence[str] | None = "d4e8a2b6c1f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signed_papers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("kind", sa.Enum("confirmation", "record", name="paper_kind", native_enum=False,
                                  create_constraint=True, length=32), nullable=False),
        sa.Column("subject_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signed_papers")),
        sa.UniqueConstraint("kind", "subject_id", name=op.f("uq_signed_papers_kind_subject_id")),
        sa.UniqueConstraint("sha256", name=op.f("uq_signed_papers_sha256")),
    )


def downgrade() -> None:
    op.drop_table("signed_papers")
