"""Executions carry the outcome of their rule's check (`fixed`, `not_fixed`, `unknown`, or `pending`
while it waits), why, and when it was judged.

Revision ID: 0005_outcomes
Revises: 0004_execution_owner
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_outcomes"
down_revision = "0004_execution_owner"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("outcome", sa.String(20), nullable=True))
        batch.add_column(sa.Column("outcome_detail", sa.Text(), nullable=True))
        batch.add_column(sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("executions") as batch:
        batch.drop_column("outcome_at")
        batch.drop_column("outcome_detail")
        batch.drop_column("outcome")
