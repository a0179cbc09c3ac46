"""Every execution is written to the audit trail before it starts and completed after it ends."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from opsbot.store.tables import executions


def test_starting_an_execution_writes_it_and_its_audit_row_before_anything_runs(store, new_request):
    req = new_request(user="U_ALICE")
    execution_id = store.start_execution(
        req.id, "service-restart", "service.restart", "ssh", {"service": "nginx", "host": "web-1"}, "U_ALICE"
    )
    with store.engine.connect() as conn:
        row = conn.execute(select(executions).where(executions.c.id == execution_id)).one()
    assert (row.status, row.user_id, row.rule_id, row.executor) == ("running", "U_ALICE", "service-restart", "ssh")
    assert row.finished_at is None

    [started] = store.audit_rows()
    assert (started["kind"], started["actor"]) == ("execution.started", "U_ALICE")
    assert started["data"] == {
        "execution_id": execution_id,
        "request_id": req.id,
        "rule_id": "service-restart",
        "intent": "service.restart",
        "executor": "ssh",
        "params": {"service": "nginx", "host": "web-1"},
    }


def test_finishing_an_execution_completes_it_and_audits_the_outcome(store, new_request):
    req = new_request(user="U_ALICE")
    execution_id = store.start_execution(req.id, "service-restart", "service.restart", "ssh", {}, "U_ALICE")
    store.finish_execution(execution_id, "failed", "exit 1: unit nginx.service not found")

    with store.engine.connect() as conn:
        row = conn.execute(select(executions).where(executions.c.id == execution_id)).one()
    assert (row.status, row.summary) == ("failed", "exit 1: unit nginx.service not found")
    assert row.finished_at >= row.started_at

    started, finished = store.audit_rows()
    assert [started["kind"], finished["kind"]] == ["execution.started", "execution.finished"]
    assert finished["seq"] == started["seq"] + 1
    assert finished["data"]["execution_id"] == execution_id
    assert finished["data"]["status"] == "failed"
    assert finished["data"]["summary"] == "exit 1: unit nginx.service not found"
    assert store.verify_audit() == []


def test_a_scheduled_execution_needs_no_request(store):
    execution_id = store.start_execution(None, "digest-daily", "digest.send", "bot", {"name": "daily"}, "scheduler")
    store.finish_execution(execution_id, "ok", "digest posted")
    assert [r["kind"] for r in store.audit_rows()] == ["execution.started", "execution.finished"]


def test_finishing_needs_a_known_outcome_and_happens_once(store):
    execution_id = store.start_execution(None, "r", "help", "bot", {}, "U1")
    with pytest.raises(ValueError, match="status"):
        store.finish_execution(execution_id, "done", "?")
    with pytest.raises(LookupError):
        store.finish_execution("no-such-execution", "ok", "")
    store.finish_execution(execution_id, "timeout", "no answer after 30s")
    with pytest.raises(ValueError, match="already finished"):
        store.finish_execution(execution_id, "ok", "late")
    assert [r["kind"] for r in store.audit_rows()] == ["execution.started", "execution.finished"]


def test_an_execution_is_not_written_without_its_audit_row(store, run_sql):
    run_sql("DELETE FROM audit_head")  # the audit append will now fail ...
    with pytest.raises(RuntimeError, match="audit head"):
        store.start_execution(None, "r", "help", "bot", {}, "U1")
    with store.engine.connect() as conn:  # ... and takes the execution row down with it
        assert conn.execute(select(executions.c.id)).all() == []


def test_rate_limit_counts_are_per_user_rule_and_window(store):
    before = datetime.now(UTC) - timedelta(seconds=1)
    for user, rule, status in [
        ("U1", "restart", "ok"),
        ("U1", "restart", "failed"),
        ("U1", "restart", "refused"),
        ("U1", "cleanup", "ok"),
        ("U2", "restart", "ok"),
    ]:
        store.finish_execution(store.start_execution(None, rule, "x", "ssh", {}, user), status, "")
    store.start_execution(None, "restart", "x", "ssh", {}, "U1")  # still running: counts

    assert store.count_executions("U1", "restart", since=before) == 3  # refused ones do not count
    assert store.count_executions("U1", "cleanup", since=before) == 1
    assert store.count_executions("U2", "restart", since=before) == 1
    assert store.count_executions("U3", "restart", since=before) == 0
    assert store.count_executions("U1", "restart", since=datetime.now(UTC) + timedelta(seconds=1)) == 0


def _set(store, execution_id, **values):
    with store.engine.begin() as conn:
        conn.execute(update(executions).where(executions.c.id == execution_id).values(**values))


def _status(store, execution_id):
    with store.engine.connect() as conn:
        return conn.execute(select(executions.c.status).where(executions.c.id == execution_id)).scalar_one()


def test_an_execution_owned_by_a_dead_process_here_is_interrupted_and_audited(store, open_store):
    execution_id = store.start_execution(None, "restart", "service.restart", "ssh", {}, "U1")
    with store.engine.connect() as conn:
        owner = conn.execute(select(executions.c.owner).where(executions.c.id == execution_id)).scalar_one()
    host, pid, start = owner.split(":")
    assert (host, pid) == (socket.gethostname(), str(os.getpid()))
    assert open_store().interrupt_orphaned_executions() == []  # its process (this one) is alive

    _set(store, execution_id, owner=f"{host}:{pid}:{int(start) + 1}")  # same pid, another process: gone
    assert open_store().interrupt_orphaned_executions() == [execution_id]
    assert _status(store, execution_id) == "interrupted"
    [row] = [r for r in store.audit_rows() if r["kind"] == "execution.interrupted"]
    assert row["data"]["execution_id"] == execution_id and row["data"]["user"] == "U1"
    assert store.verify_audit() == []
    assert open_store().interrupt_orphaned_executions() == []  # once


def test_another_hosts_execution_is_interrupted_only_when_its_heartbeat_is_stale(store):
    fresh = store.start_execution(None, "restart", "x", "ssh", {}, "U1")
    stale = store.start_execution(None, "restart", "x", "ssh", {}, "U1")
    _set(store, fresh, owner="elsewhere:1:1")
    _set(store, stale, owner="elsewhere:2:1", heartbeat_at=datetime.now(UTC) - timedelta(minutes=10))
    assert store.interrupt_orphaned_executions(stale_after=120) == [stale]
    store.heartbeat_execution(fresh)
    assert _status(store, fresh) == "running"


def test_interrupted_executions_do_not_count_toward_rate_limits_and_a_late_finish_keeps_the_truth(store):
    before = datetime.now(UTC) - timedelta(seconds=1)
    execution_id = store.start_execution(None, "restart", "x", "ssh", {}, "U1")
    assert store.mark_execution_interrupted(execution_id, "stopped") is True
    assert store.mark_execution_interrupted(execution_id, "stopped") is False
    assert store.count_executions("U1", "restart", since=before) == 0
    store.finish_execution(execution_id, "ok", "it did finish")  # the process was only slow
    assert _status(store, execution_id) == "ok"
    finished = [r for r in store.audit_rows() if r["kind"] == "execution.finished"]
    assert finished[-1]["data"]["was_interrupted"] is True
