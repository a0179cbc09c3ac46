"""The initial schema: requests, parses, replies, executions, approvals, conversations, feedback,
processed events, learned examples and the audit trail.

Written by hand and frozen: later changes go in new revisions, never here. Column types are plain
SQLAlchemy types (the UTC / JSON behaviour lives in Python, in opsbot/store/tables.py).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def _ts(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("thread", sa.String(255), nullable=True),
        sa.Column("frontend", sa.String(50), nullable=False),
        sa.Column("conversation", sa.String(800), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_requests"),
    )
    op.create_index("ix_requests_created_at", "requests", ["created_at"])

    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("intent", sa.String(200), nullable=True),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("parser", sa.String(50), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("missing", sa.Text(), nullable=False),
        sa.Column("usage", sa.Text(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name="fk_tasks_request_id_requests", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
    )
    op.create_index("ix_tasks_request_id", "tasks", ["request_id"])

    op.create_table(
        "replies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name="fk_replies_request_id_requests", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_replies"),
    )
    op.create_index("ix_replies_request_id", "replies", ["request_id"])

    op.create_table(
        "executions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("rule_id", sa.String(255), nullable=False),
        sa.Column("intent", sa.String(200), nullable=False),
        sa.Column("executor", sa.String(50), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        sa.CheckConstraint("status IN ('running', 'ok', 'failed', 'timeout', 'refused')", name="ck_executions_status"),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name="fk_executions_request_id_requests", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_executions"),
    )
    op.create_index("ix_executions_request_id", "executions", ["request_id"])
    op.create_index("ix_executions_user_id_rule_id_started_at", "executions", ["user_id", "rule_id", "started_at"])

    op.create_table(
        "approvals",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(255), nullable=False),
        sa.Column("intent", sa.String(200), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("requester", sa.String(255), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("approver", sa.String(255), nullable=True),
        sa.Column("channel", sa.String(255), nullable=True),
        sa.Column("thread", sa.String(255), nullable=True),
        _ts("created_at"),
        _ts("expires_at"),
        _ts("decided_at", nullable=True),
        _ts("executed_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'denied', 'expired', 'executed')", name="ck_approvals_status"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name="fk_approvals_request_id_requests", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_approvals"),
    )
    op.create_index("ix_approvals_request_id", "approvals", ["request_id"])
    op.create_index("ix_approvals_status_expires_at", "approvals", ["status", "expires_at"])

    op.create_table(
        "conversations",
        sa.Column("key", sa.String(800), nullable=False),
        sa.Column("last_task", sa.Text(), nullable=True),
        sa.Column("pending", sa.Text(), nullable=True),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("key", name="pk_conversations"),
    )

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("vote", sa.SmallInteger(), nullable=True),
        sa.Column("correction", sa.Text(), nullable=True),
        _ts("created_at"),
        sa.CheckConstraint("vote IS NULL OR vote IN (-1, 1)", name="ck_feedback_vote"),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name="fk_feedback_request_id_requests", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
    )
    op.create_index("ix_feedback_request_id", "feedback", ["request_id"])

    op.create_table(
        "processed_events",
        sa.Column("key", sa.String(255), nullable=False),
        _ts("processed_at"),
        sa.PrimaryKeyConstraint("key", name="pk_processed_events"),
    )
    op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"])

    op.create_table(
        "learned_versions",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("parent", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("version", name="pk_learned_versions"),
    )

    op.create_table(
        "learned_examples",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(200), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["version"],
            ["learned_versions.version"],
            name="fk_learned_examples_version_learned_versions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_learned_examples"),
    )
    op.create_index("ix_learned_examples_version", "learned_examples", ["version"])

    learned_head = op.create_table(
        "learned_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_learned_head"),
    )
    op.bulk_insert(learned_head, [{"id": 1, "version": 0}])

    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        _ts("ts"),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )

    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
    )
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": GENESIS}])


def downgrade() -> None:
    for table in (
        "audit_head",
        "audit_log",
        "learned_head",
        "learned_examples",
        "learned_versions",
        "processed_events",
        "feedback",
        "conversations",
        "approvals",
        "executions",
        "replies",
        "tasks",
        "requests",
    ):
        op.drop_table(table)
