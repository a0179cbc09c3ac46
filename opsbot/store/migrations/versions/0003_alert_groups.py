"""Alert groups from Alertmanager (one message per group, claimed across replicas), storm summaries,
and the runs alerts started.

Revision ID: 0003_alert_groups
Revises: 0002_user_settings
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_alert_groups"
down_revision = "0002_user_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_groups",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("alerts", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(255)),
        sa.Column("ts", sa.String(255)),
        sa.Column("storm", sa.String(255)),
        sa.Column("acked_by", sa.String(255)),
        sa.Column("acked_at", sa.DateTime(timezone=True)),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('firing', 'resolved')", name="ck_alert_groups_status"),
        sa.PrimaryKeyConstraint("key", name="pk_alert_groups"),
    )
    op.create_index("ix_alert_groups_first_at", "alert_groups", ["first_at"])
    op.create_table(
        "alert_storms",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("ts", sa.String(255)),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_alert_storms"),
    )
    op.create_table(
        "alert_runs",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("alert_key", sa.String(64), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name="fk_alert_runs_request_id_requests", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("request_id", name="pk_alert_runs"),
    )
    op.create_index("ix_alert_runs_alert_key", "alert_runs", ["alert_key"])


def downgrade() -> None:
    op.drop_table("alert_runs")
    op.drop_table("alert_storms")
    op.drop_index("ix_alert_groups_first_at", "alert_groups")
    op.drop_table("alert_groups")
