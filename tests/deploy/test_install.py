"""The image's install step, without Docker: the wheel built as the Dockerfile builds it, installed by
the very script the Dockerfile runs (docker/install.sh) into a clean virtualenv, then that installed
`opsbot serve` against PostgreSQL: /health answers, the migrations are applied, /ready says so, and
SIGTERM stops it with exit status 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid

import pytest
from deploy_helpers import DOCKER, ROOT
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from opsbot.store import Store
from opsbot.testing import fake_slack as fs
from opsbot.testing.serve import ServeProcess, clean_env

pytestmark = pytest.mark.servers  # the installed opsbot serve and the fake Slack Web API


@pytest.fixture
def fresh_database(postgres_url):
    """An empty database of its own on the specs' PostgreSQL server."""
    name = f"opsbot_install_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.mark.timeout(1200)  # a wheel build and a whole dependency install (from pip's cache when warm)
def test_the_dockerfile_install_gives_a_working_serve(tmp_path, fresh_database):
    dist = tmp_path / "dist"
    build = subprocess.run(  # the build stage's command (build isolation off: this venv has hatchling)
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    venv = tmp_path / "opsbot-venv"
    install = subprocess.run(
        ["sh", str(DOCKER / "install.sh"), str(venv), str(dist)],
        env={**os.environ, "PYTHON": sys.executable, "PIP_OPTIONS": ""},
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    assert install.stdout.strip().startswith("opsbot ")

    config = tmp_path / "opsbot.yaml"
    config.write_text((DOCKER / "config" / "opsbot.yaml").read_text().replace("/run/secrets/ssh_key", "ssh_key"))
    with fs.FakeSlackWebAPI() as api:
        env = clean_env(
            SLACK_BOT_TOKEN=fs.BOT_TOKEN,
            SLACK_SIGNING_SECRET=fs.SIGNING_SECRET,
            SLACK_API_URL=api.base_url,
            OPSBOT_DATABASE_URL=fresh_database,
            OPSBOT_STATE_DIR=str(tmp_path / "state"),
        )
        server = ServeProcess.start(
            config,
            env,
            tmp_path / "serve.log",
            command=[str(venv / "bin" / "opsbot")],
            extra_args=["--log-format", "json"],
            timeout=120,
        )
        try:
            assert server.health()["ok"] is True
            with urllib.request.urlopen(server.url("/ready"), timeout=10) as resp:
                assert json.loads(resp.read()) == {"ready": True}
            with Store(fresh_database) as store:
                assert store.schema_problem() is None  # the migrations ran at start
            imported = server.proc.args[0]
            assert imported.startswith(str(venv))
        finally:
            code = server.stop()
    assert code == 0, server.log_text()
