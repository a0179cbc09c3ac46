"""Fixtures for the Slack front end specs (the helpers they use are in slack_helpers.py)."""

from __future__ import annotations

import pytest
from slack_helpers import SocketBot, start_socket_bot, stop_socket_bot

from opsbot.testing import component_missing


@pytest.fixture
def bot(tmp_path) -> SocketBot:
    b = start_socket_bot(tmp_path)
    yield b
    stop_socket_bot(b)


@pytest.fixture
def ib(tmp_path):
    """`opsbot serve` taking Alertmanager's webhooks (incident_helpers.IncidentBot)."""
    from incident_helpers import start_incident_bot, stop_incident_bot

    b = start_incident_bot(tmp_path)
    yield b
    stop_incident_bot(b)


# ---- a real Prometheus (charts) ------------------------------------------------------------------


@pytest.fixture(scope="session")
def prometheus_lab(tmp_path_factory):
    """Prometheus scraping node_exporter as web-1 and web-2, on loopback ports."""
    from opsbot.lab.prometheus import binaries_missing, start_node_exporter, start_prometheus

    missing = binaries_missing()
    if missing:
        reason = f"needs {', '.join(missing)} (Debian packages prometheus, prometheus-node-exporter)"
        component_missing(reason)
    work = tmp_path_factory.mktemp("slack-prometheus")
    node = start_node_exporter(work)
    prom = start_prometheus(
        work, [{"job": "node", "address": node.address, "labels": {"host": h}} for h in ("web-1", "web-2")]
    )
    prom.wait_for('count_over_time(node_cpu_seconds_total{mode="idle", cpu="0", host="web-1"}[1m]) >= 3')
    yield prom
    prom.stop()
    node.stop()


@pytest.fixture
def chart_bot(tmp_path, prometheus_lab) -> SocketBot:
    b = start_socket_bot(tmp_path, prometheus_url=prometheus_lab.url)
    yield b
    stop_socket_bot(b)
