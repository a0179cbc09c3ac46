"""The store's tables (SQLAlchemy Core), portable between SQLite and PostgreSQL.

JSON is kept as text and datetimes as timezone-aware UTC, so the same code and the same data work on
both databases. The migration in migrations/versions/ creates exactly these tables; a test compares them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# Named constraints and indexes: migrations can refer to them by the same name on every database.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = 64  # uuid4 hex ids are 32 characters; front ends may bring longer ones of their own
NAME = 255


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on both databases.

    SQLite has no time zones, so UTC is stored without an offset (the text then sorts and compares
    correctly); PostgreSQL gets a timestamptz. Naive datetimes are refused: their meaning depends on the
    machine, and comparing them with stored expiries would be wrong somewhere.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()}: the store needs timezone-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def dumps(value: Any) -> str:
    """Canonical JSON text: sorted keys, no spaces, UTF-8 kept readable."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class JSONText(TypeDecorator[Any]):
    """JSON stored as plain text (portable; PostgreSQL's json types would not be)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else dumps(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


requests = Table(
    "requests",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("text", Text, nullable=False),
    Column("user_id", String(NAME), nullable=False),
    Column("channel", String(NAME), nullable=False),
    Column("thread", String(NAME)),
    Column("frontend", String(50), nullable=False),
    Column("conversation", String(800), nullable=False),
    Column("created_at", UTCDateTime, nullable=False, index=True),
)

# One row per parse of a request (a clarified request is parsed again; the latest parse counts).
tasks = Table(
    "tasks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(ID), ForeignKey("requests.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("intent", String(200)),
    Column("params", JSONText, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("parser", String(50), nullable=False),
    Column("note", Text),
    Column("missing", JSONText, nullable=False),
    Column("usage", JSONText, nullable=False),  # tokens, cost ... as the parser reported them
    Column("latency_ms", Float, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# What the user was told: kind and text only (charts are not kept). The latest reply is the outcome.
replies = Table(
    "replies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(ID), ForeignKey("requests.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

executions = Table(
    "executions",
    metadata,
    Column("id", String(ID), primary_key=True),
    # Scheduled digests run without a request.
    Column("request_id", String(ID), ForeignKey("requests.id", ondelete="SET NULL"), index=True),
    Column("rule_id", String(NAME), nullable=False),
    Column("intent", String(200), nullable=False),
    Column("executor", String(50), nullable=False),
    Column("params", JSONText, nullable=False),
    Column("user_id", String(NAME), nullable=False),
    Column("status", String(20), nullable=False),
    Column("summary", Text),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    # The process running it (host:pid:start) and its last sign of life: a `running` row whose owner
    # is gone is marked `interrupted` (outcome unknown) by the next process that starts.
    Column("owner", String(NAME)),
    Column("heartbeat_at", UTCDateTime),
    # The rule's outcome check (opsbot/pipeline/outcomes.py): pending, fixed, not_fixed or unknown.
    Column("outcome", String(20)),
    Column("outcome_detail", Text),
    Column("outcome_at", UTCDateTime),
    CheckConstraint("status IN ('running', 'ok', 'failed', 'timeout', 'refused', 'interrupted')", name="status"),
    Index(None, "user_id", "rule_id", "started_at"),  # rate-limit counts
)

approvals = Table(
    "approvals",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("request_id", String(ID), ForeignKey("requests.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("rule_id", String(NAME), nullable=False),
    Column("intent", String(200), nullable=False),
    Column("params", JSONText, nullable=False),
    Column("requester", String(NAME), nullable=False),
    Column("status", String(20), nullable=False),
    Column("approver", String(NAME)),
    Column("channel", String(NAME)),
    Column("thread", String(NAME)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime),
    Column("executed_at", UTCDateTime),
    CheckConstraint("status IN ('pending', 'approved', 'denied', 'expired', 'executed')", name="status"),
    Index(None, "status", "expires_at"),  # expiry sweeps
)

# Clarifying questions and follow-ups, keyed by Request.conversation, so any replica can continue them.
conversations = Table(
    "conversations",
    metadata,
    Column("key", String(800), primary_key=True),
    Column("last_task", JSONText),
    Column("pending", JSONText),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Per-person settings: the reply language chosen with `/lang` (NULL: each message's own language).
user_settings = Table(
    "user_settings",
    metadata,
    Column("user_id", String(NAME), primary_key=True),
    Column("language", String(10)),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Append-only: a user's latest vote on a request counts, and the latest correction wins.
feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(ID), ForeignKey("requests.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("user_id", String(NAME), nullable=False),
    Column("vote", SmallInteger),
    Column("correction", JSONText),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("vote IS NULL OR vote IN (-1, 1)", name="vote"),
)

# Slack retries: the primary key makes "first time?" an atomic question across replicas.
processed_events = Table(
    "processed_events",
    metadata,
    Column("key", String(NAME), primary_key=True),
    Column("processed_at", UTCDateTime, nullable=False, index=True),
)

# The few-shot bank that `opsbot tune` writes. Every set is a new version; `parent` is the version
# that was current before it, so reverting walks back the way tune went.
learned_versions = Table(
    "learned_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("parent", Integer, nullable=False),  # 0: the empty bank
    Column("count", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

learned_examples = Table(
    "learned_examples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", Integer, ForeignKey("learned_versions.version", ondelete="CASCADE"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("intent", String(200), nullable=False),
    Column("params", JSONText, nullable=False),
    Column("source", String(50), nullable=False),
    Column("request_id", String(ID)),  # no foreign key: examples outlive pruned requests
)

# Single row (id = 1): the current version. Locked while tune writes, so two runs cannot collide.
learned_head = Table(
    "learned_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
)

# The audit trail: append-only and hash-chained (see audit.py).
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", UTCDateTime, nullable=False),
    Column("actor", String(NAME), nullable=False),
    Column("kind", String(100), nullable=False),
    Column("data", Text, nullable=False),  # canonical JSON text: hashed exactly as stored
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# Single row (id = 1): the last seq and hash. Updated with every append, so a deleted tail shows.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# One row per Alertmanager group (receiver + group key, hashed): inserting it claims the group, so of
# several replicas given the same notification exactly one posts its message.
alert_groups = Table(
    "alert_groups",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("group_key", Text, nullable=False),
    Column("name", String(NAME), nullable=False),
    Column("status", String(20), nullable=False),
    Column("labels", JSONText, nullable=False),  # the group's common labels
    Column("alerts", JSONText, nullable=False),  # fingerprint -> {status, labels, annotations, starts_at, ends_at}
    Column("channel", String(NAME)),
    Column("ts", String(NAME)),  # the Slack message (None until posted; never posted in a storm)
    Column("storm", String(NAME)),  # the storm summary it was counted in, if any
    Column("acked_by", String(NAME)),
    Column("acked_at", UTCDateTime),
    Column("first_at", UTCDateTime, nullable=False, index=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    CheckConstraint("status IN ('firing', 'resolved')", name="status"),
)

# A storm: many new groups in a minute, shown as one summary message per minute bucket.
alert_storms = Table(
    "alert_storms",
    metadata,
    Column("key", String(NAME), primary_key=True),
    Column("channel", String(NAME), nullable=False),
    Column("ts", String(NAME)),
    Column("started_at", UTCDateTime, nullable=False),
)

# Runs an alert started (diagnoses): their request, and the alert they were for, for feedback export.
alert_runs = Table(
    "alert_runs",
    metadata,
    Column("request_id", String(ID), ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True),
    Column("alert_key", String(64), nullable=False, index=True),
    Column("labels", JSONText, nullable=False),
)
