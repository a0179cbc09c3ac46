"""Fixtures for the scheduler specs: a real App (default rules, SQLite file store) whose digests run
only the bot's own intents, so no outside server is needed."""
from __future__ import annotations

import os

import pytest

from digest_helpers import write_config


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch):
    """The tests' config files say everything; nothing from the runner's environment leaks in."""
    for var in list(os.environ):
        if var.startswith(("SLACK_", "OPSBOT_", "OPENAI_")):
            monkeypatch.delenv(var)


@pytest.fixture
def make_app(tmp_path):
    """make_app(digests, **more_config) -> a built App on tmp_path's database. Calling it again gives
    a second replica (its own Store, engine and connections) on the same database file."""
    from opsbot.app import build_app
    from opsbot.config import load_config
    apps = []

    def make(digests: dict, **extra):
        app = build_app(load_config(write_config(tmp_path, digests, **extra)))
        apps.append(app)
        return app
    yield make
    for app in apps:
        app.close()
