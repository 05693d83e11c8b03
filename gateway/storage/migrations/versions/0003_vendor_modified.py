"""the vendor modification time a status poll last followed, per vendor record

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vendor_records") as batch:
        batch.add_column(sa.Column("vendor_modified", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("vendor_records") as batch:
        batch.drop_column("vendor_modified")
