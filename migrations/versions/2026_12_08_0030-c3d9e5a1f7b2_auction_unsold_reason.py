"""why an unsold auction did not sell: no_bids or reserve_not_met

Revision ID: c3d9e5a1f7b2
Revises: 280d01c564ec
Create Date: 2026-12-08 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3d9e5a1f7b2"
down_revision: str | Sequence[str] | None = "280d01c564ec"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "unsold_reason",
                sa.Enum("no_bids", "reserve_not_met", name="unsold_reason", native_enum=False,
                        create_constraint=True, length=32),
                nullable=True,
            )
        )
    # Auctions closed before: unsold with a bid in their last round means reserve not met.
    op.execute(
        "UPDATE auctions SET unsold_reason = CASE WHEN EXISTS (SELECT 1 FROM bids"
        " WHERE bids.auction_id = auctions.id AND bids.round_index ="
        " (SELECT max(r.round_index) FROM auction_rounds r WHERE r.auction_id = auctions.id"
        " AND r.closed_at IS NOT NULL)) THEN 'reserve_not_met' ELSE 'no_bids' END"
        " WHERE outcome = 'unsold'"
    )


def downgrade() -> None:
    # the enum's CHECK (SQLite keeps it in the table; the batch copy would refer to the column)
    checks = {c["name"] for c in sa.inspect(op.get_bind()).get_check_constraints("auctions")}
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        if "ck_auctions_unsold_reason" in checks:
            batch_op.drop_constraint(batch_op.f("ck_auctions_unsold_reason"), type_="check")
        batch_op.drop_column("unsold_reason")
