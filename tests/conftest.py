"""Shared fixtures. `lab` is the real local lab (sshd, demo services, Prometheus) for the whole session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opsbot.testing import component_missing


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
