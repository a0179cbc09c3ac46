"""Executions name the process running them (`owner`) and its last sign of life (`heartbeat_at`), and may
end `interrupted`: left running by a process that died, outcome unknown.

Revision ID: 0004_execution_owner
Revises: 0003_alert_groups
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_execution_owner"
down_revision = "0003_alert_groups"
branch_labels = None
depends_on = None

OLD = "status IN ('running', 'ok', 'failed', 'timeout', 'refused')"
NEW = "status IN ('running', 'ok', 'failed', 'timeout', 'refused', 'interrupted')"


def upgrade() -> None:
    # batch: SQLite cannot alter a CHECK constraint in place (elsewhere this is plain ALTER TABLE)
    with op.batch_alter_table("executions") as batch:
        batch.add_column(sa.Column("owner", sa.String(255), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint("ck_executions_status", type_="check")
        batch.create_check_constraint("ck_executions_status", NEW)


def downgrade() -> None:
    op.execute("UPDATE executions SET status = 'failed' WHERE status = 'interrupted'")
    with op.batch_alter_table("executions") as batch:
        batch.drop_constraint("ck_executions_status", type_="check")
        batch.create_check_constraint("ck_executions_status", OLD)
        batch.drop_column("heartbeat_at")
        batch.drop_column("owner")
