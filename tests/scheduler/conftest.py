"""Fixtures for the scheduler specs: a real App (default rules, SQLite file store) whose digests run
only the bot's own intents, so no outside server is needed."""

from __future__ import annotations

import pytest
from digest_helpers import write_config


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
