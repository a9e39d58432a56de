"""the channel of each bid (online, absentee, floor) and a floor bid's clerk; absentee bids

Revision ID: e5f9b3c7d2a4
Revises: e5f1a7c3b9d2
Create Date: 2026-12-08 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "e5f9b3c7d2a4"
down_revision: str | Sequence[str] | None = "e5f1a7c3b9d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bids", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "channel",
            sa.Enum("online", "absentee", "floor", name="bid_channel", native_enum=False,
                    create_constraint=True, length=32),
            server_default="online", nullable=False))
        batch_op.add_column(sa.Column("clerk_id", app.db.BigId, nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_bids_clerk_id_users"), "users", ["clerk_id"],
                                    ["id"], ondelete="RESTRICT")
    op.create_table(
        "absentee_bids",
        sa.Column("auction_id", app.db.BigId, nullable=False),
        sa.Column("organization_id", app.db.BigId, nullable=False),
        sa.Column("max_amount", app.db.Money(), nullable=False),
        sa.Column("left_at", app.db.UTCDateTime(), nullable=False),
        sa.Column("placed_by_id", app.db.BigId, nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("applied_at", app.db.UTCDateTime(), nullable=True),
        sa.Column("id", app.db.BigId, autoincrement=True, nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["auction_id"], ["auctions.id"],
                                name=op.f("fk_absentee_bids_auction_id_auctions"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_absentee_bids_organization_id_organizations"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["placed_by_id"], ["users.id"],
                                name=op.f("fk_absentee_bids_placed_by_id_users"), ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_absentee_bids")),
        sa.UniqueConstraint("auction_id", "organization_id",
                            name=op.f("uq_absentee_bids_auction_id_organization_id")),
    )


def downgrade() -> None:
    op.drop_table("absentee_bids")
    checks = {c["name"] for c in sa.inspect(op.get_bind()).get_check_constraints("bids")}
    with op.batch_alter_table("bids", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_bids_clerk_id_users"), type_="foreignkey")
        if "ck_bids_bid_channel" in checks:
            batch_op.drop_constraint(batch_op.f("ck_bids_bid_channel"), type_="check")
        batch_op.drop_column("clerk_id")
        batch_op.drop_column("channel")
