"""Fixtures for the runbook specs (kb_helpers.py): the lab's runbooks and inventory, a real store."""

import pytest
from kb_helpers import lab_config

from opsbot.app import build_app


@pytest.fixture
def config(tmp_path):
    return lab_config(tmp_path)


@pytest.fixture
def app(config):
    with build_app(config, "offline") as a:
        yield a
