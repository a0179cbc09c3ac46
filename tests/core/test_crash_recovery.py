"""Attack 5: after a crash the truth is kept. An opsbot process killed while a change runs leaves the
execution `running`; the next process to start marks it `interrupted` (with its audit row), says plainly
that the outcome is unknown and how to check, and does not count it toward rate limits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from pipeline_helpers import ask
from waiting import wait_until

from opsbot.app import build_app
from opsbot.config.loader import load_config
from opsbot.lab.process import free_port as closed_port  # nothing listens there: a connection fails at once
from opsbot.store import Store
from opsbot.testing.tarpit import Tarpit

pytestmark = [pytest.mark.slow, pytest.mark.servers]  # a second Python process killed mid-run; a tarpit

CHILD = textwrap.dedent(
    """
    import sys
    from opsbot.app import build_app
    from opsbot.config.loader import load_config
    from opsbot.core.request import Request

    app = build_app(load_config(sys.argv[1]))
    asked = app.pipeline.handle(
        Request(text="restart postgresql on db-1", user="alice", channel="c", thread="t1", frontend="test")
    )
    print(asked.approval_id, flush=True)
    app.pipeline.decide(asked.approval_id, "dan", True)  # hangs on the tarpit until killed
    """
)


@pytest.fixture
def tarpit():
    pit = Tarpit()
    yield pit
    pit.stop()


@pytest.fixture
def config_file(tmp_path, tarpit):
    (tmp_path / "known_hosts").write_text("")
    config = {
        "inventory": {
            "hosts": {
                "db-1": {"address": "127.0.0.1", "port": tarpit.port, "groups": ["db"], "services": ["postgresql"]}
            }
        },
        "access": {"default_roles": ["viewer"], "users": {"alice": ["operator"], "dan": ["approver", "dba"]}},
        "database_url": f"sqlite:///{tmp_path / 'opsbot.db'}",
        "prometheus": {"url": f"http://127.0.0.1:{closed_port()}", "timeout": 2},
        "ssh": {"connect_timeout": 300, "command_timeout": 300, "known_hosts": str(tmp_path / "known_hosts")},
    }
    path = tmp_path / "opsbot.yaml"
    path.write_text(json.dumps(config))
    return path


def running(store):
    return [r for r in store.audit_rows(limit=100) if r["kind"] == "execution.started"]


def test_a_change_killed_mid_run_is_marked_interrupted_on_the_next_start(config_file, tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(config_file)], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        approval_id = child.stdout.readline().strip()
        with Store(f"sqlite:///{tmp_path / 'opsbot.db'}") as store:
            wait_until(lambda: running(store), what="the restart to start running", timeout=60)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)

    with build_app(load_config(config_file)) as app:  # the next start
        rows = app.store.audit_rows(limit=100)
        [interrupted] = [r for r in rows if r["kind"] == "execution.interrupted"]
        assert interrupted["data"]["user"] == "alice"
        assert "outcome is unknown" in interrupted["data"]["reason"]

        again = app.pipeline.decide(approval_id, "dan", True)
        assert "it ran once" not in again.text
        assert "whether it took effect is unknown" in again.text
        assert "Check with `is postgresql running on db-1`" in again.text

        # rate limit on db-1: 2 restarts per hour; the interrupted one is not held against alice
        app.config.ssh.connect_timeout = 1
        second = ask(app, "restart postgresql on db-1")
        assert second.kind == "approval", second.text
        app.config.ssh.connect_timeout = 300


def test_a_running_execution_of_a_live_process_is_left_alone(config_file):
    with build_app(load_config(config_file)) as app:
        execution_id = app.store.start_execution(None, "r", "service.restart", "ssh", {}, "alice")
        assert app.store.interrupt_orphaned_executions() == []
        with build_app(load_config(config_file)) as other:  # a second replica starting on this host
            assert other.store.interrupt_orphaned_executions() == []
        app.store.finish_execution(execution_id, "ok", "done")
