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

INDEX = "uq_registrations_deposit_reference_normalized"


def upgrade() -> None:
    # Fails on a database where one deposit already qualified two registrations: which of
    # them keeps it is the operator's decision, not a migration's.
    op.create_index(INDEX, "registrations", [sa.text("lower(trim(deposit_reference))")], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="registrations")
