"""a paused session's pause: when it began (Redis clock), also the token of its lots' pause

Revision ID: d4e8a2b6c1f3
Revises: c3d9e5a1f7b2
Create Date: 2026-12-08 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "d4e8a2b6c1f3"
down_revision: str | Sequence[str] | None = "c3d9e5a1f7b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auction_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_at", app.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("auction_sessions", schema=None) as batch_op:
        batch_op.drop_column("paused_at")
