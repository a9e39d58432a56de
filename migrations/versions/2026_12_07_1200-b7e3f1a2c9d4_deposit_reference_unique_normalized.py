"""deposit references unique whatever their case or surrounding spaces

Revision ID: b7e3f1a2c9d4
Revises: ef9ae15b8898
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e3f1a2c9d4"
down_revision: str | Sequence[str] | None = "ef9ae15b8898"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "lower(trim(deposit_reference))"  # app.auctions.models.DEPOSIT_REFERENCE_KEY


def upgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deposit_reference_key", sa.String(length=128), nullable=True))
    op.execute(f"UPDATE registrations SET deposit_reference_key = {KEY}")
    # Fails on a database where one deposit already qualified two registrations: which of
    # them keeps it is the operator's decision, not a migration's.
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            op.f("uq_registrations_deposit_reference_key"), ["deposit_reference_key"])
        batch_op.create_check_constraint(
            "deposit_reference_key_matches",
            f"(deposit_reference IS NULL AND deposit_reference_key IS NULL) OR deposit_reference_key = {KEY}",
        )


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_constraint("deposit_reference_key_matches", type_="check")
        batch_op.drop_constraint(op.f("uq_registrations_deposit_reference_key"), type_="unique")
        batch_op.drop_column("deposit_reference_key")
