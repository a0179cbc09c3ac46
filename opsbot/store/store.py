"""The Store: the bot's persistence (requests, parses, replies, executions, approvals, conversations,
feedback, processed Slack events, learned examples and the audit trail), on SQLite or PostgreSQL.

Every public method is one short transaction, so several replicas (or threads) can share a database.
Writes that must not interleave (audit appends, approval decisions, learned-example versions) are
serialised by the database, never by locks in this process: SQLite write transactions start with
BEGIN IMMEDIATE, and on PostgreSQL the contended single rows are locked with SELECT ... FOR UPDATE or
changed by a conditional UPDATE.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, Engine, Row, create_engine, event, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool

from opsbot.core.action import PastRun
from opsbot.core.conversation import Conversation, LastTask, PendingQuestion
from opsbot.core.reply import Reply
from opsbot.core.request import Request
from opsbot.core.task import Task
from opsbot.redact import redact_all
from opsbot.store import audit as audit_trail
from opsbot.store.alert_groups import AlertGroupsMixin
from opsbot.store.liveness import STALE_SECONDS, current_owner, owner_alive
from opsbot.store.location import default_database_url
from opsbot.store.records import ApprovalRecord
from opsbot.store.sealing import Sealer
from opsbot.store.tables import (
    approvals,
    audit_head,
    conversations,
    executions,
    feedback,
    learned_head,
    learned_versions,
    processed_events,
    replies,
    requests,
    tasks,
    user_settings,
)
from opsbot.store.tables import (
    learned_examples as learned_examples_table,
)

MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_MS = 10_000
FINISHED = ("ok", "failed", "timeout", "refused")
MIGRATION_LOCK = 0x6F7073626F74  # "opsbot": pg_advisory_xact_lock key, so two replicas never migrate at once
SYSTEM_ACTOR = "opsbot"


def normalise_url(url: str) -> str:
    """postgres:// and postgresql:// mean psycopg 3 (the driver opsbot ships with)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime, name: str) -> datetime:
    # Checked at the API boundary so the caller gets a plain ValueError naming the argument.
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime (UTC), not {value!r}")
    return value.astimezone(UTC)


# The approval's target hosts are stored inside its params JSON under this key (the approvals table
# has no column of their own); ApprovalRecord.targets is the typed view.
TARGETS_KEY = "_targets"


def _approval_record(row: Row[Any]) -> ApprovalRecord:
    values = row._asdict()
    params = dict(values.pop("params"))
    targets = params.pop(TARGETS_KEY, None)
    return ApprovalRecord(**values, params=params, targets=targets)


_M = TypeVar("_M", bound=BaseModel)


def _model_or_none(model: type[_M], data: Any) -> _M | None:
    if data is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


def _new_id() -> str:
    return uuid.uuid4().hex


# --- SQLite connection setup ---------------------------------------------------------------------


def _sqlite_on_connect(dbapi_connection: Any, _record: object) -> None:
    # Take BEGIN away from the sqlite3 module (it would begin late, only before DML); _sqlite_on_begin
    # emits it instead, so reads are repeatable and writers queue up at BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    _switch_to_wal(cursor)  # readers do not block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; no fsync per commit
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """Two replicas opening a new database at once both switch it to WAL; SQLite answers one of them
    "database is locked" at once, without waiting (busy_timeout does not apply), so that one retries.
    Once the file is in WAL mode the switch is a no-op."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _sqlite_on_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN " + conn.get_execution_options().get("opsbot_begin", "DEFERRED"))


def _make_engine(url: str) -> Engine:
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if parsed.database in (None, "", ":memory:"):
        options["poolclass"] = StaticPool  # one in-memory database, not one per connection
    engine = create_engine(parsed, **options)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


class Store(AlertGroupsMixin):
    """The persistence layer. `Store(url)` connects; `Store.open(url)` also migrates."""

    def __init__(self, url: str | None = None, audit_key: bytes | None = None, keys: list[bytes] | None = None) -> None:
        self.url = normalise_url(url or default_database_url())
        self.audit_key = audit_key  # HMAC key of the audit chain, kept outside the database
        self.sealer = Sealer(keys)  # encrypts message texts and outputs at rest (none: stored as is)
        self.engine = _make_engine(self.url)
        # Same pool, but transactions start with BEGIN IMMEDIATE on SQLite (ignored elsewhere).
        self._writer = self.engine.execution_options(opsbot_begin="IMMEDIATE")
        self._insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        # Built once: the hot path then skips statement construction and cache-key work per call.
        self._insert_request = self._insert(requests).on_conflict_do_nothing(index_elements=["id"])
        self._scripts: Any = None  # alembic's ScriptDirectory of the shipped migrations, read once

    @classmethod
    def open(cls, url: str | None = None, audit_key: bytes | None = None, keys: list[bytes] | None = None) -> Store:
        store = cls(url, audit_key, keys)
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
        return store

    def migrate(self) -> None:
        """alembic upgrade head, from the migrations shipped inside the package. Safe to repeat."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self._write() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def schema_problem(self) -> str | None:
        """None when the database answers and holds this code's schema (a replica may take traffic:
        `GET /ready`); otherwise why not, in one sentence. A schema newer than this code (a revision it
        does not know, applied by a newer replica during a rolling upgrade) counts as current: migrations
        only add. Raises nothing."""
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        if self._scripts is None:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            self._scripts = ScriptDirectory.from_config(config)
        scripts = self._scripts
        heads = set(scripts.get_heads())
        try:
            with self._read() as conn:
                current = set(MigrationContext.configure(conn).get_current_heads())
        except Exception as e:
            return f"the database does not answer ({type(e).__name__})"
        known = {r.revision for r in scripts.walk_revisions()}
        behind = not current or any(rev in known and rev not in heads for rev in current)
        if behind:
            return (
                f"the database schema is at {', '.join(sorted(current)) or 'no revision'}, this opsbot needs "
                f"{', '.join(sorted(heads))}: run the migrations (opsbot serve does at start)"
            )
        return None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({make_url(self.url).render_as_string(hide_password=True)!r})"

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._writer.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        """A read whose queries all see the same moment. SQLite (WAL) gives that to any transaction;
        PostgreSQL's default READ COMMITTED does not, so ask for REPEATABLE READ there."""
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            yield conn

    # --- requests, parses, replies ---------------------------------------------------------------

    def record_request(self, req: Request) -> None:
        """Keep a request. Recording the same request again is harmless."""
        with self._write() as conn:
            conn.execute(
                self._insert_request,
                {
                    "id": req.id,
                    "text": self.sealer.seal(redact_all(req.text)),
                    "user_id": req.user,
                    "channel": req.channel,
                    "thread": req.thread,
                    "frontend": req.frontend,
                    "conversation": req.conversation,
                    "created_at": _now(),
                },
            )

    def record_task(self, request_id: str, task: Task, latency_ms: float) -> None:
        with self._write() as conn:
            conn.execute(
                insert(tasks).values(
                    request_id=request_id,
                    intent=task.intent,
                    params=redact_all(task.params),
                    confidence=task.confidence,
                    parser=task.parser,
                    note=redact_all(task.note),
                    missing=task.missing,
                    usage=task.usage,
                    latency_ms=latency_ms,
                    created_at=_now(),
                )
            )

    def record_reply(self, request_id: str, reply: Reply) -> None:
        """Keep what the user was told (kind and text; tables and charts are not kept)."""
        with self._write() as conn:
            conn.execute(
                insert(replies).values(
                    request_id=request_id,
                    kind=reply.kind,
                    text=self.sealer.seal(redact_all(reply.text)),
                    created_at=_now(),
                )
            )

    def request_text(self, request_id: str) -> str | None:
        with self._read() as conn:
            text = conn.execute(select(requests.c.text).where(requests.c.id == request_id)).scalar_one_or_none()
        return self.sealer.unseal(text)

    # --- executions ------------------------------------------------------------------------------

    def start_execution(
        self, request_id: str | None, rule_id: str, intent: str, executor: str, params: dict[str, Any], user: str
    ) -> str:
        """Record that an action is about to run, with its audit row, before it runs."""
        execution_id, now = _new_id(), _now()
        with self._write() as conn:
            conn.execute(
                insert(executions).values(
                    id=execution_id,
                    request_id=request_id,
                    rule_id=rule_id,
                    intent=intent,
                    executor=executor,
                    params=redact_all(params),
                    user_id=user,
                    status="running",
                    started_at=now,
                    owner=current_owner(),
                    heartbeat_at=now,
                )
            )
            self._audit_append(
                conn,
                user,
                "execution.started",
                {
                    "execution_id": execution_id,
                    "request_id": request_id,
                    "rule_id": rule_id,
                    "intent": intent,
                    "executor": executor,
                    "params": params,
                },
                now,
            )
        return execution_id

    def set_outcome(self, execution_id: str, outcome: str, detail: str | None) -> None:
        """The outcome of an execution's check: pending, fixed, not_fixed or unknown."""
        if outcome not in ("pending", "fixed", "not_fixed", "unknown"):
            raise ValueError(f"unknown outcome {outcome!r}")
        with self._write() as conn:
            conn.execute(
                update(executions)
                .where(executions.c.id == execution_id)
                .values(outcome=outcome, outcome_detail=detail, outcome_at=_now())
            )

    def outcome_of(self, execution_id: str) -> str | None:
        with self._read() as conn:
            return conn.execute(
                select(executions.c.outcome).where(executions.c.id == execution_id)
            ).scalar_one_or_none()

    def outcomes_by_request(self) -> dict[str, str]:
        """request id -> the judged outcome of its latest checked execution (pending ones left out)."""
        with self._read() as conn:
            rows = conn.execute(
                select(executions.c.request_id, executions.c.outcome)
                .where(
                    executions.c.request_id.is_not(None), executions.c.outcome.in_(["fixed", "not_fixed", "unknown"])
                )
                .order_by(executions.c.started_at)
            ).all()
        return {r.request_id: r.outcome for r in rows}

    def request_place(self, request_id: str) -> tuple[str, str | None, str] | None:
        """(channel, thread, front end) a request was asked in."""
        with self._read() as conn:
            row = conn.execute(
                select(requests.c.channel, requests.c.thread, requests.c.frontend).where(requests.c.id == request_id)
            ).one_or_none()
        return (row.channel, row.thread, row.frontend) if row else None

    def finish_execution(self, execution_id: str, status: str, summary: str) -> None:
        """Complete a running execution, with its audit row. Finishing twice is an error."""
        if status not in FINISHED:
            raise ValueError(f"execution status must be one of {', '.join(FINISHED)}, not {status!r}")
        now = _now()
        summary = self.sealer.seal(redact_all(summary)) or ""  # command output: redacted, and sealed when keyed
        with self._write() as conn:
            row = conn.execute(
                select(executions.c.user_id, executions.c.status, executions.c.started_at)
                .where(executions.c.id == execution_id)
                .with_for_update()
            ).one_or_none()
            if row is None:
                raise LookupError(f"no execution {execution_id}")
            # An execution taken for orphaned whose process was only slow still gets its real outcome.
            if row.status not in ("running", "interrupted"):
                raise ValueError(f"execution {execution_id} already finished ({row.status})")
            conn.execute(
                update(executions)
                .where(executions.c.id == execution_id)
                .values(status=status, summary=summary, finished_at=now)
            )
            data = {
                "execution_id": execution_id,
                "status": status,
                "summary": summary,
                "duration_ms": round((now - row.started_at).total_seconds() * 1000, 1),
            }
            if row.status == "interrupted":
                data["was_interrupted"] = True
            self._audit_append(conn, row.user_id, "execution.finished", data, now)

    def heartbeat_execution(self, execution_id: str) -> None:
        """The running execution's process is alive (see liveness.HEARTBEAT_SECONDS)."""
        with self._write() as conn:
            conn.execute(
                update(executions)
                .where(executions.c.id == execution_id, executions.c.status == "running")
                .values(heartbeat_at=_now())
            )

    def mark_execution_interrupted(self, execution_id: str, reason: str) -> bool:
        """Mark one `running` execution `interrupted` (its outcome is unknown), with its audit row.
        False when it is no longer running. Used at start for executions of dead processes, and by a
        process that stops before its own executions end."""
        now = _now()
        with self._write() as conn:
            row = conn.execute(
                select(executions.c.user_id, executions.c.owner, executions.c.status)
                .where(executions.c.id == execution_id)
                .with_for_update()
            ).one_or_none()
            if row is None or row.status != "running":
                return False
            conn.execute(
                update(executions)
                .where(executions.c.id == execution_id)
                .values(status="interrupted", summary=reason, finished_at=now)
            )
            self._audit_append(
                conn,
                SYSTEM_ACTOR,
                "execution.interrupted",
                {"execution_id": execution_id, "user": row.user_id, "owner": row.owner, "reason": reason},
                now,
            )
        return True

    def running_executions(self, owner: str) -> list[str]:
        """Ids of the executions `owner` (a process, store.liveness.current_owner) is running now."""
        with self._read() as conn:
            rows = conn.execute(
                select(executions.c.id).where(executions.c.status == "running", executions.c.owner == owner)
            ).all()
        return [row.id for row in rows]

    def interrupt_orphaned_executions(self, stale_after: float = STALE_SECONDS) -> list[str]:
        """On start: every execution left `running` by a process that is gone (dead on this host, or
        silent for `stale_after` seconds elsewhere) becomes `interrupted`. Returns their ids."""
        now = _now()
        with self._read() as conn:
            rows = conn.execute(
                select(executions.c.id, executions.c.owner, executions.c.heartbeat_at, executions.c.started_at).where(
                    executions.c.status == "running"
                )
            ).all()
        done = []
        for row in rows:
            alive = owner_alive(row.owner)
            last = row.heartbeat_at or row.started_at
            if alive is False or (alive is None and now - last > timedelta(seconds=stale_after)):
                reason = "the process running it stopped before it finished; its outcome is unknown"
                if self.mark_execution_interrupted(row.id, reason):
                    done.append(row.id)
        return done

    def rotate_key(self) -> dict[str, int]:
        """Re-encrypt every sealed text with the first key (and seal texts stored before there were
        keys); returns how many values each table had rewritten. Run after adding a new first key,
        then the old key can go."""
        if not self.sealer.active:
            raise ValueError("no store keys are configured, so there is nothing to rotate to")
        done: dict[str, int] = {}
        for table, column, key in (
            (requests, requests.c.text, requests.c.id),
            (replies, replies.c.text, replies.c.id),
            (executions, executions.c.summary, executions.c.id),
        ):
            with self._read() as conn:
                rows = conn.execute(select(key, column)).all()
            count = 0
            for row_id, value in rows:
                new = self.sealer.rotate(value)
                if new != value:
                    with self._write() as conn:
                        conn.execute(update(table).where(key == row_id).values({column.name: new}))
                    count += 1
            done[table.name] = count
        return done

    def execution_status_of_request(self, request_id: str) -> str | None:
        """The status of the latest execution a request led to, if any."""
        with self._read() as conn:
            return conn.execute(
                select(executions.c.status)
                .where(executions.c.request_id == request_id)
                .order_by(executions.c.started_at.desc())
                .limit(1)
            ).scalar_one_or_none()

    def count_executions(self, user: str, rule_id: str, since: datetime) -> int:
        """Executions of a rule by a user started at or after `since`, for rate limits. Refused ones
        and interrupted ones do not count: being refused must not keep someone refused, and a crash of
        the bot is not the asker's doing."""
        with self._read() as conn:
            return conn.execute(
                select(func.count())
                .select_from(executions)
                .where(
                    executions.c.user_id == user,
                    executions.c.rule_id == rule_id,
                    executions.c.started_at >= _aware(since, "since"),
                    executions.c.status.not_in(("refused", "interrupted")),
                )
            ).scalar_one()

    def past_runs(self, intents: tuple[str, ...], limit: int = 200) -> list[PastRun]:
        """The latest executions of `intents`, newest first, each with the approver of its request."""
        approver = (
            select(approvals.c.approver)
            .where(
                approvals.c.request_id == executions.c.request_id,
                approvals.c.rule_id == executions.c.rule_id,
                approvals.c.approver.is_not(None),
            )
            .order_by(approvals.c.decided_at.desc())
            .limit(1)
            .scalar_subquery()
        )
        query = (
            select(executions, approver.label("approver"))
            .where(executions.c.intent.in_(intents))
            .order_by(executions.c.started_at.desc())
            .limit(limit)
        )
        with self._read() as conn:
            return [
                PastRun(
                    intent=r.intent,
                    params=dict(r.params or {}),
                    user=r.user_id,
                    approver=r.approver,
                    status=r.status,
                    summary=self.sealer.unseal(r.summary) or "",  # sealed at rest when the store is keyed
                    started_at=r.started_at,
                    finished_at=r.finished_at,
                )
                for r in conn.execute(query)
            ]

    # --- approvals -------------------------------------------------------------------------------

    def create_approval(
        self,
        request_id: str,
        rule_id: str,
        intent: str,
        params: dict[str, Any],
        requester: str,
        expires_at: datetime,
        channel: str | None = None,
        thread: str | None = None,
        targets: list[str] | None = None,
    ) -> ApprovalRecord:
        record = ApprovalRecord(
            id=_new_id(),
            request_id=request_id,
            rule_id=rule_id,
            intent=intent,
            params=params,
            targets=targets,
            requester=requester,
            status="pending",
            channel=channel,
            thread=thread,
            created_at=_now(),
            expires_at=_aware(expires_at, "expires_at"),
        )
        row = record.model_dump(exclude={"targets"})
        if targets is not None:
            row["params"] = {**params, TARGETS_KEY: targets}
        # Not audited here: the pipeline audits the request with its context (rule, channel, policy).
        with self._write() as conn:
            conn.execute(insert(approvals).values(**row))
        return record

    def get_approval(self, approval_id: str) -> ApprovalRecord | None:
        with self._read() as conn:
            row = conn.execute(select(approvals).where(approvals.c.id == approval_id)).one_or_none()
        return None if row is None else _approval_record(row)

    def decide_approval(self, approval_id: str, approver: str, approve: bool, now: datetime) -> bool:
        """Approve or deny a pending, unexpired approval. True iff this call made the decision: the
        conditional UPDATE lets exactly one of several simultaneous clicks win, on any replica.
        Who may decide (roles, not approving one's own request) is the policy's business, not ours,
        and so is auditing the decision (the pipeline does, with the rule and requester)."""
        status, now = ("approved" if approve else "denied"), _aware(now, "now")
        with self._write() as conn:
            return (
                conn.execute(
                    update(approvals)
                    .where(approvals.c.id == approval_id, approvals.c.status == "pending", approvals.c.expires_at > now)
                    .values(status=status, approver=approver, decided_at=now)
                ).rowcount
                == 1
            )

    def pending_approval_of(
        self, requester: str, channel: str | None, thread: str | None, now: datetime
    ) -> ApprovalRecord | None:
        """The newest unexpired approval `requester` is waiting for in this channel and thread, if any."""
        with self._read() as conn:
            row = conn.execute(
                select(approvals)
                .where(
                    approvals.c.requester == requester,
                    approvals.c.status == "pending",
                    approvals.c.channel == channel,
                    approvals.c.thread == thread,
                    approvals.c.expires_at > _aware(now, "now"),
                )
                .order_by(approvals.c.created_at.desc())
                .limit(1)
            ).one_or_none()
        return None if row is None else _approval_record(row)

    def find_approvals(self, prefix: str, limit: int = 2) -> list[ApprovalRecord]:
        """Approvals whose id starts with `prefix` (what a person types instead of 32 hex digits)."""
        if not prefix or not all(c in "0123456789abcdef" for c in prefix):
            return []  # ids are hex: nothing else can match (nor a LIKE wildcard)
        with self._read() as conn:
            rows = conn.execute(
                select(approvals)
                .where(approvals.c.id.like(prefix + "%"))
                .order_by(approvals.c.created_at.desc())
                .limit(limit)
            ).all()
        return [_approval_record(r) for r in rows]

    def latest_pending_approval(self, now: datetime, channel: str | None = None) -> ApprovalRecord | None:
        """The newest pending, unexpired approval (in `channel` when given): what `/approve last` means."""
        cond = [approvals.c.status == "pending", approvals.c.expires_at > _aware(now, "now")]
        if channel is not None:
            cond.append(approvals.c.channel == channel)
        with self._read() as conn:
            row = conn.execute(
                select(approvals).where(*cond).order_by(approvals.c.created_at.desc()).limit(1)
            ).one_or_none()
        return None if row is None else _approval_record(row)

    def count_pending_approvals(self, now: datetime) -> int:
        """Pending, unexpired approvals across every replica (the bot's own /metrics)."""
        with self._read() as conn:
            count = conn.execute(
                select(func.count())
                .select_from(approvals)
                .where(approvals.c.status == "pending", approvals.c.expires_at > _aware(now, "now"))
            ).scalar_one()
        return int(count)

    def claim_approved(self, approval_id: str) -> bool:
        """Move an approved approval to 'executed'. True only for the one caller that should run it."""
        now = _now()
        with self._write() as conn:
            won = (
                conn.execute(
                    update(approvals)
                    .where(approvals.c.id == approval_id, approvals.c.status == "approved")
                    .values(status="executed", executed_at=now)
                ).rowcount
                == 1
            )
            if won:
                self._audit_append(conn, SYSTEM_ACTOR, "approval.claimed", {"approval_id": approval_id}, now)
        return won

    def expire_approvals(self, now: datetime) -> int:
        """Mark pending approvals past their expiry as 'expired'; returns how many."""
        now = _aware(now, "now")
        with self._write() as conn:
            expired = (
                conn.execute(
                    update(approvals)
                    .where(approvals.c.status == "pending", approvals.c.expires_at <= now)
                    .values(status="expired", decided_at=now)
                    .returning(approvals.c.id)
                )
                .scalars()
                .all()
            )
            if expired:
                # Stamped with the real clock: `now` is the caller's expiry check.
                self._audit_append(conn, SYSTEM_ACTOR, "approval.expired", {"approval_ids": sorted(expired)}, _now())
        return len(expired)

    # --- conversations ---------------------------------------------------------------------------

    def save_conversation(self, key: str, conversation: Conversation) -> None:
        now = _now()
        last = redact_all(conversation.last.model_dump(mode="json")) if conversation.last else None
        pending = redact_all(conversation.pending.model_dump(mode="json")) if conversation.pending else None
        stmt = self._insert(conversations).values(key=key, last_task=last, pending=pending, updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={"last_task": stmt.excluded.last_task, "pending": stmt.excluded.pending, "updated_at": now},
        )
        with self._write() as conn:
            conn.execute(stmt)

    def load_conversation(self, key: str) -> Conversation:
        """The conversation's state; a part stored in a shape we no longer read counts as absent."""
        with self._read() as conn:
            row = conn.execute(
                select(conversations.c.last_task, conversations.c.pending).where(conversations.c.key == key)
            ).one_or_none()
        if row is None:
            return Conversation()
        return Conversation(
            last=_model_or_none(LastTask, row.last_task), pending=_model_or_none(PendingQuestion, row.pending)
        )

    # --- per-person settings ---------------------------------------------------------------------

    def set_user_language(self, user: str, language: str | None) -> None:
        """`language` "en" / "zh", or None for each message's own language (`/lang auto`)."""
        now = _now()
        stmt = self._insert(user_settings).values(user_id=user, language=language, updated_at=now)
        stmt = stmt.on_conflict_do_update(index_elements=["user_id"], set_={"language": language, "updated_at": now})
        with self._write() as conn:
            conn.execute(stmt)

    def user_language(self, user: str) -> str | None:
        with self._read() as conn:
            return conn.execute(
                select(user_settings.c.language).where(user_settings.c.user_id == user)
            ).scalar_one_or_none()

    # --- feedback --------------------------------------------------------------------------------

    def add_feedback(
        self, request_id: str, user: str, vote: int | None = None, correction: dict[str, Any] | None = None
    ) -> None:
        """A vote (+1 / -1; a user's latest vote counts) and/or a correction {"intent", "params"}."""
        if vote not in (None, 1, -1):
            raise ValueError(f"vote must be +1 or -1, not {vote!r}")
        if vote is None and correction is None:
            raise ValueError("feedback needs a vote or a correction")
        if correction is not None:
            if not isinstance(correction, dict) or not correction.get("intent"):
                raise ValueError('a correction is {"intent": ..., "params": {...}}')
            correction = {"intent": correction["intent"], "params": dict(correction.get("params") or {})}
        with self._write() as conn:
            conn.execute(
                insert(feedback).values(
                    request_id=request_id, user_id=user, vote=vote, correction=correction, created_at=_now()
                )
            )

    def export_feedback(self) -> Iterator[dict[str, Any]]:
        """One dict per request that was parsed (its latest parse), with the outcome (latest reply),
        votes (each user's latest), and the latest correction. Oldest request first."""
        latest_task = select(func.max(tasks.c.id)).group_by(tasks.c.request_id).scalar_subquery()
        latest_reply = (select(func.max(replies.c.id)).group_by(replies.c.request_id)).subquery()
        query = (
            select(
                requests.c.id,
                requests.c.text,
                requests.c.created_at,
                tasks.c.intent,
                tasks.c.params,
                tasks.c.confidence,
                tasks.c.parser,
                replies.c.kind,
                replies.c.text.label("reply_text"),
            )
            .join(tasks, tasks.c.request_id == requests.c.id)
            .outerjoin(replies, (replies.c.request_id == requests.c.id) & replies.c.id.in_(select(latest_reply)))
            .where(tasks.c.id.in_(latest_task))
            .order_by(requests.c.created_at, requests.c.id)
        )
        with self._snapshot() as conn:
            rows = conn.execute(query).all()
            notes = conn.execute(select(feedback).order_by(feedback.c.id)).all()
        alerts = self.alert_run_labels()  # runs an alert started carry its labels

        votes: dict[str, dict[str, int]] = {}  # request -> user -> latest vote
        corrections: dict[str, dict[str, Any]] = {}  # request -> latest correction
        for note in notes:
            if note.vote is not None:
                votes.setdefault(note.request_id, {})[note.user_id] = note.vote
            if note.correction is not None:
                corrections[note.request_id] = note.correction

        for row in rows:
            cast = votes.get(row.id, {}).values()
            yield {
                "request_id": row.id,
                "text": self.sealer.unseal(row.text),
                "task": {
                    "intent": row.intent,
                    "params": row.params,
                    "confidence": row.confidence,
                    "parser": row.parser,
                },
                "outcome": None if row.kind is None else {"kind": row.kind, "text": self.sealer.unseal(row.reply_text)},
                "votes": {"up": sum(1 for v in cast if v > 0), "down": sum(1 for v in cast if v < 0)},
                "correction": corrections.get(row.id),
                "at": row.created_at.isoformat(),
                **({"alert": alerts[row.id]} if row.id in alerts else {}),
            }

    def confirmed_examples(self) -> list[dict[str, Any]]:
        """Parses confirmed by people or by what happened, each with a `weight` (opsbot tune applies the
        heaviest last, so it wins for its text):
        - a correction (3): a person said what it should have been; it wins over everything else;
        - an up-voted parse, more up than down votes (1, or 2 when its action's check also said fixed);
        - a parse whose action's check said fixed and that got no vote at all (1): what actually happened
          is evidence too, a 👎 cancels it.
        A parse that found no intent is not an example of anything; an alert's diagnosis was typed by
        nobody, so its text teaches the parser nothing."""
        examples = []
        checked = self.outcomes_by_request()
        for item in self.export_feedback():
            base = {"text": item["text"], "request_id": item["request_id"], "outcome": checked.get(item["request_id"])}
            up, down = item["votes"]["up"], item["votes"]["down"]
            fixed = base["outcome"] == "fixed"
            if item["correction"] is not None:
                examples.append(
                    {
                        **base,
                        "intent": item["correction"]["intent"],
                        "params": item["correction"]["params"],
                        "source": "correction",
                        "weight": 3,
                    }
                )
            elif not item["task"]["intent"] or "alert" in item:
                continue
            elif up > down or (fixed and up == down == 0):
                examples.append(
                    {
                        **base,
                        "intent": item["task"]["intent"],
                        "params": item["task"]["params"],
                        "source": "upvote" if up > down else "outcome",
                        "weight": (1 if up > down else 0) + (1 if fixed else 0),
                    }
                )
        return examples

    # --- Slack retries ---------------------------------------------------------------------------

    def mark_event_processed(self, key: str) -> bool:
        """True the first time a key is seen (by any replica), False for a retry."""
        try:
            with self._write() as conn:
                conn.execute(insert(processed_events).values(key=key, processed_at=_now()))
        except IntegrityError:
            return False
        return True

    def forget_processed_events(self, before: datetime) -> int:
        """Drop de-duplication keys older than `before` (Slack stops retrying after minutes)."""
        before = _aware(before, "before")
        with self._write() as conn:
            return conn.execute(processed_events.delete().where(processed_events.c.processed_at < before)).rowcount

    # --- learned examples (the few-shot bank `opsbot tune` writes) -------------------------------

    def set_learned_examples(self, examples: list[dict[str, Any]]) -> int:
        """Replace the bank with `examples` as a new version (older versions are kept); returns the
        new version number."""
        rows = []
        for position, example in enumerate(examples):
            if not example.get("text") or not example.get("intent"):
                raise ValueError(f"learned example {position} needs a text and an intent: {example!r}")
            rows.append(
                {
                    "position": position,
                    "text": example["text"],
                    "intent": example["intent"],
                    "params": dict(example.get("params") or {}),
                    "source": example.get("source", "tune"),
                    "request_id": example.get("request_id"),
                }
            )
        now = _now()
        with self._write() as conn:
            parent = self._learned_head(conn)
            version = int(conn.execute(select(func.coalesce(func.max(learned_versions.c.version), 0))).scalar_one()) + 1
            conn.execute(
                insert(learned_versions).values(version=version, parent=parent, count=len(rows), created_at=now)
            )
            if rows:
                conn.execute(insert(learned_examples_table), [{**row, "version": version} for row in rows])
            conn.execute(update(learned_head).where(learned_head.c.id == 1).values(version=version))
            self._audit_append(
                conn, SYSTEM_ACTOR, "learned.set", {"version": version, "parent": parent, "count": len(rows)}, now
            )
        return version

    def learned_examples(self) -> list[dict[str, Any]]:
        """The current version's examples, in the order they were set."""
        t = learned_examples_table
        with self._read() as conn:
            query = (
                select(t.c.text, t.c.intent, t.c.params, t.c.source, t.c.request_id)
                .join(learned_head, learned_head.c.version == t.c.version)
                .where(learned_head.c.id == 1)
                .order_by(t.c.position)
            )
            return [row._asdict() for row in conn.execute(query)]

    def learned_version(self) -> int:
        """The current version number (0: nothing learned yet, or reverted past the first version)."""
        with self._read() as conn:
            return self._learned_head(conn, lock=False)

    def revert_learned_examples(self) -> int:
        """Go back one version (to the one that was current before it); returns the version now
        current. The reverted version is kept, and a later set gets a new number."""
        with self._write() as conn:
            current = self._learned_head(conn)
            if current == 0:
                raise LookupError("no learned examples to revert")
            parent = int(
                conn.execute(
                    select(learned_versions.c.parent).where(learned_versions.c.version == current)
                ).scalar_one()
            )
            conn.execute(update(learned_head).where(learned_head.c.id == 1).values(version=parent))
            self._audit_append(conn, SYSTEM_ACTOR, "learned.revert", {"from": current, "to": parent}, _now())
        return parent

    @staticmethod
    def _learned_head(conn: Connection, lock: bool = True) -> int:
        query = select(learned_head.c.version).where(learned_head.c.id == 1)
        return int(conn.execute(query.with_for_update() if lock else query).scalar_one())

    # --- audit trail -----------------------------------------------------------------------------

    def audit(self, actor: str, kind: str, data: dict[str, Any]) -> None:
        with self._write() as conn:
            self._audit_append(conn, actor, kind, data, _now())

    def _audit_append(self, conn: Connection, actor: str, kind: str, data: dict[str, Any], now: datetime) -> int:
        # redacted first: a secret in the chain could never be removed without breaking it
        return audit_trail.append(conn, actor, kind, redact_all(data), now, self.audit_key)

    def verify_audit(self, anchor: tuple[int, str] | None = None) -> list[str]:
        """[] when the trail is intact; otherwise one sentence per problem. `anchor`: a head seen in
        the log (audit_trail.parse_anchor), which the chain must still hold."""
        with self._snapshot() as conn:  # rows and head from the same moment, despite appends
            return audit_trail.verify(conn, self.audit_key, anchor)

    def audit_head(self) -> tuple[int, str]:
        """(seq, hash) of the chain's last row: the anchor to keep outside the database."""
        with self._read() as conn:
            row = conn.execute(select(audit_head.c.seq, audit_head.c.hash)).one()
        return int(row.seq), row.hash

    def audit_rows(self, limit: int = 100) -> list[dict[str, Any]]:
        """The last `limit` audit rows, oldest first."""
        with self._read() as conn:
            return audit_trail.recent(conn, limit)
