"""Shared fixtures. `lab` is the real local lab (sshd, demo services, Prometheus) for the whole session;
`postgres_url` a PostgreSQL database (a throwaway server when none answers).

Tiers: a spec that uses a real component or a local server gets that component's marker (lab,
prometheus, postgresql, servers) from the fixtures it uses, and `slow` with it; `make test-fast` runs
the rest (`-m "not slow"`). A spec that starts such a thing itself carries the marker (pytestmark); an
unmarked spec that opens a listening socket fails and says so, which keeps the fast tier honest.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from throwaway_postgres import ThrowawayPostgres, server_binaries

from opsbot.testing import component_missing

COMPONENTS = ("lab", "prometheus", "postgresql", "servers")
# Fixtures that bring a component; a spec using one (directly or through other fixtures) is marked.
COMPONENT_FIXTURES = {
    "lab": "lab",
    "sshd_installed": "lab",
    "prometheus": "prometheus",
    "prometheus_lab": "prometheus",
    "postgres_url": "postgresql",
    "throwaway_postgres": "postgresql",
    "server": "servers",  # tests/llm: the fake OpenAI server
    "bot": "servers",
    "http_bot": "servers",
    "digest_bot": "servers",  # tests/slack: fake Slack, opsbot serve
    "serving_lab": "servers",  # tests/serving: a real Ray head with Serve, a real MLflow server
}
# The PostgreSQL the specs use: a URL, or "throwaway" to start one without trying the URL first.
PG_URL = os.environ.get("OPSBOT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        for name in COMPONENT_FIXTURES.keys() & set(getattr(item, "fixturenames", ())):
            item.add_marker(COMPONENT_FIXTURES[name])
        if any(item.get_closest_marker(c) for c in COMPONENTS):
            item.add_marker("slow")


# Server programs a spec may start only when it is marked (in-process servers are caught at listen()).
SERVER_PROGRAMS = {
    "prometheus",
    "prometheus-node-exporter",
    "prometheus-alertmanager",
    "sshd",
    "initdb",
    "pg_ctl",
    "postgres",
    "ray",
    "mlflow",
}


@pytest.fixture(autouse=True)
def _own_state_dir(tmp_path_factory, monkeypatch):
    """Every spec gets its own state directory: a command run without --config never reads or migrates
    the user's real store (~/.local/state/opsbot), which another checkout may have migrated further."""
    monkeypatch.setenv("OPSBOT_STATE_DIR", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(autouse=True)
def _no_servers_in_unmarked_specs(request, monkeypatch):
    """A spec that carries no component marker may not start a server, in this process or another."""
    if any(request.node.get_closest_marker(c) for c in COMPONENTS):
        return

    def refuse() -> None:
        raise RuntimeError(
            f"{request.node.nodeid} starts a server but carries none of the markers "
            f"{', '.join(COMPONENTS)}: add one (pytestmark) so `make test-fast` leaves it out"
        )

    popen = subprocess.Popen.__init__

    def checked_popen(self, args, *more, **kw):
        program = args if isinstance(args, (str, os.PathLike)) else args[0]
        if Path(str(program).split()[0]).name in SERVER_PROGRAMS:
            refuse()
        popen(self, args, *more, **kw)

    monkeypatch.setattr(socket.socket, "listen", lambda sock, *args: refuse())
    monkeypatch.setattr(subprocess.Popen, "__init__", checked_popen)


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch):
    """Every test says its own configuration: nothing from the runner's environment (an OPENAI_API_KEY
    would switch the parser to auto, an OPSBOT_DATABASE_URL the store) leaks in."""
    for var in list(os.environ):
        if var.startswith(("SLACK_", "OPSBOT_", "OPENAI_")):
            monkeypatch.delenv(var)


def need_sshd() -> None:
    """Skip when the OpenSSH server is not installed; in CI (CI=true) that is a failure instead."""
    from opsbot.lab import INSTALL_HINT
    from opsbot.lab.sshd import SSHD

    if not Path(SSHD).exists():
        reason = f"{SSHD} is not installed; {INSTALL_HINT}"
        component_missing(reason)


@pytest.fixture
def sshd_installed() -> None:
    """For tests that start a lab of their own."""
    need_sshd()


@pytest.fixture(scope="session")
def lab():
    """The lab: web-1, web-2, db-1, cache-1, gpu-1 on one real sshd, demo services, Prometheus when its
    packages are installed (lab.prometheus is None otherwise)."""
    need_sshd()
    from opsbot.lab import Lab

    with Lab.start() as running:
        yield running


@pytest.fixture(scope="session")
def serving_lab(tmp_path_factory):
    """A real Ray head running the lab's Serve application, a real MLflow server with three registered
    versions of its tiny model, and a Prometheus scraping Ray with a week of request history; started
    once per session (tens of seconds), shared by every spec that uses it."""
    from opsbot.lab.serving import ServingLab, missing

    absent = missing()
    if absent:
        component_missing(
            f"the serving lab needs {', '.join(absent)}: pip install 'opsbot[lab]', apt-get install prometheus"
        )
    with ServingLab.start(tmp_path_factory.mktemp("serving")) as running:
        yield running


@pytest.fixture(scope="session")
def lab_config(lab):
    """The config the lab wrote, loaded. Tests that change it take a `model_copy(deep=True)`."""
    return lab.config()


@pytest.fixture(scope="session")
def lab_plan(lab_config):
    """plan(intent, config=None, **params) -> Action, through the real rule engine and default rules."""
    from opsbot.core.task import Task
    from opsbot.rules.engine import Engine
    from opsbot.rules.loader import load_rules

    rules = load_rules()

    def plan(intent: str, config=None, **params):
        return Engine(rules, config or lab_config).plan(Task(intent=intent, params=params)).action

    return plan


# ---- PostgreSQL ---------------------------------------------------------------------------------------

_pg_used: list[str] = []  # which server the session used, for the summary


def _unreachable(url: str) -> str | None:
    """Why `url` cannot be used, or None when it answers."""
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return None
    except Exception as exc:
        return f"{exc.__class__.__name__}: {(str(exc).strip().splitlines() or [''])[0]}"
    finally:
        engine.dispose()


def start_throwaway_postgres() -> ThrowawayPostgres:
    """A throwaway server, or a skip (a failure under CI) when PostgreSQL's server is not installed."""
    if server_binaries() is None:
        component_missing(
            "no PostgreSQL answers and its server is not installed to start one: "
            "apt-get install postgresql (make test does)"
        )
    return ThrowawayPostgres.start()


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL database for the specs: $OPSBOT_TEST_PG_URL (default the local `test` database) when
    it answers, else a throwaway server started for this session from the Debian package."""
    if PG_URL == "throwaway":
        why = "OPSBOT_TEST_PG_URL=throwaway"
    else:
        shown = make_url(PG_URL).render_as_string()
        problem = _unreachable(PG_URL)
        if problem is None:
            _pg_used.append(shown)
            yield PG_URL
            return
        why = f"{shown} is unreachable: {problem}"
    with start_throwaway_postgres() as server:
        _pg_used.append(f"a throwaway server on 127.0.0.1:{server.port} ({why})")
        yield server.url


@pytest.fixture
def throwaway_postgres():
    """A PostgreSQL server of this spec's own (always a throwaway, whatever else is reachable)."""
    with start_throwaway_postgres() as server:
        yield server


def pytest_terminal_summary(terminalreporter) -> None:
    if _pg_used:
        terminalreporter.write_line(f"PostgreSQL used by the specs: {_pg_used[0]}")
