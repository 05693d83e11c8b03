"""sign-up confirmation: pending sign-ups and the outgoing mail queue (issue 22, account enumeration)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_ups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_ups")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_sign_ups_code_hash")),
    )
    op.create_index(op.f("ix_sign_ups_email"), "sign_ups", ["email"], unique=False)
    op.create_table(
        "mail",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail")),
    )
    op.create_index(op.f("ix_mail_to_address"), "mail", ["to_address"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_mail_to_address"), table_name="mail")
    op.drop_table("mail")
    op.drop_index(op.f("ix_sign_ups_email"), table_name="sign_ups")
    op.drop_table("sign_ups")
