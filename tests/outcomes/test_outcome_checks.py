"""Outcome checks on the lab: after an approved restart, the rule's check (service.status, a few
seconds later) finds the service active and records "fixed" with the execution, audited, and told to
the thread; a check whose expectation the output does not show records "not fixed", and one that cannot
run (sshd down) "unknown"."""

import threading

from waiting import wait_until

from opsbot.app import build_app
from opsbot.core.request import Request
from opsbot.rules.schema import Expect, OutcomeCheck


def ask(app, text, user="alice", thread="outcome"):
    return app.pipeline.handle(Request(text=text, user=user, channel="c", thread=thread, frontend="test"))


def execution_id(app, intent):
    rows = [r for r in app.store.audit_rows(limit=1000) if r["kind"] == "execution.started"]
    return next(r["data"]["execution_id"] for r in reversed(rows) if r["data"]["intent"] == intent)


def test_a_restart_is_checked_a_few_seconds_later_and_recorded_as_fixed(lab, lab_config, tmp_path):
    config = lab_config.model_copy(deep=True)
    config.database_url = f"sqlite:///{tmp_path / 'opsbot.db'}"
    heard, arrived = [], threading.Event()
    with build_app(config, "offline") as app:
        app.pipeline.outcome_listeners.append(lambda event: (heard.append(event), arrived.set()))
        approval = ask(app, "restart nginx on web-1")
        done = app.pipeline.decide(approval.approval_id, "bob", approve=True)
        assert done.kind != "error", done.text
        run = execution_id(app, "service.restart")
        assert app.store.outcome_of(run) == "pending"
        wait_until(arrived.is_set, timeout=60)
        assert app.store.outcome_of(run) == "fixed"
        event = heard[0]
        assert event.request_id == approval.request_id and event.outcome == "fixed"
        assert event.text.startswith("Check 5s after the change (service.status): fixed.") and "active" in event.text
        kinds = [r["kind"] for r in app.store.audit_rows(limit=1000)]
        assert "check.scheduled" in kinds and "check.finished" in kinds
        assert app.store.outcomes_by_request() == {approval.request_id: "fixed"}


def test_a_check_whose_expectation_is_not_shown_is_not_fixed_and_one_that_cannot_run_is_unknown(
    lab, lab_config, tmp_path
):
    config = lab_config.model_copy(deep=True)
    config.database_url = f"sqlite:///{tmp_path / 'opsbot.db'}"
    params = {"service": "redis", "host": "cache-1"}
    with build_app(config, "offline") as app:
        exec_id = app.store.start_execution(None, "service.restart", "service.restart", "ssh", params, "alice")
        app.store.finish_execution(exec_id, "ok", "restarted")
        never = OutcomeCheck(intent="service.status", after="1s", expect=Expect(matches="^crash-looping$"))
        assert app.pipeline.run_check(exec_id, None, never, params) == "not_fixed"
        assert app.store.outcome_of(exec_id) == "not_fixed"
    active = OutcomeCheck(intent="service.status", after="1s", expect=Expect(matches=r"(^|\s)active$"))
    with lab.sshd_down(), build_app(config, "offline") as app:  # a new app: no connection kept from before
        assert app.pipeline.run_check(exec_id, None, active, params) == "unknown"
        assert app.store.outcome_of(exec_id) == "unknown"
