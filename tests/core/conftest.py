"""The `app` fixture: the pipeline with the real offline parser, rule engine and store (SQLite). SSH targets
point at a closed loopback port, so an execution fails fast but is still recorded: that is enough to see
how many times something ran. Real executions are covered in tests/executors."""

import pytest
from pipeline_helpers import Clock

from opsbot.app import build_app
from opsbot.config import Config
from opsbot.lab.process import free_port as closed_port  # nothing listens there: a connection fails at once


@pytest.fixture
def app(tmp_path):
    port = closed_port()
    host = {"address": "127.0.0.1", "port": port}
    config = Config(
        inventory={
            "hosts": {
                "web-1": {**host, "groups": ["web"], "services": ["nginx", "api"]},
                "web-2": {**host, "groups": ["web"], "services": ["nginx", "api"]},
                "db-1": {**host, "groups": ["db"], "services": ["postgresql"]},
            }
        },
        access={
            "default_roles": ["viewer"],
            "users": {
                "alice": ["operator"],
                "bob": ["operator", "approver"],
                "carol": ["viewer"],
                "dan": ["approver", "dba"],
            },
        },
        database_url=f"sqlite:///{tmp_path / 'opsbot.db'}",
        prometheus={"url": f"http://127.0.0.1:{closed_port()}", "timeout": 2},
        ssh={"connect_timeout": 2, "known_hosts": str(tmp_path / "known_hosts")},
    )
    (tmp_path / "known_hosts").write_text("")
    with build_app(config) as a:
        a.clock = Clock()
        a.pipeline.now = a.clock
        yield a
