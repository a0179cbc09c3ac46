"""docker/compose.yaml validates against the Compose specification's JSON schema, the files it mounts
exist, and the Prometheus and Alertmanager it starts are wired to opsbot as the incidents work expects."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from deploy_helpers import DOCKER, compose_schema, tool

COMPOSE = DOCKER / "compose.yaml"


@pytest.mark.slow  # may fetch the schema from PyPI on first use
def test_compose_file_validates_against_the_compose_spec():
    done = subprocess.run(
        [tool("check-jsonschema"), "--schemafile", str(compose_schema()), str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_stack_has_the_bot_its_database_and_optional_monitoring():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert {"opsbot", "postgres", "prometheus", "alertmanager"} <= set(services)
    assert "profiles" not in services["opsbot"] and "profiles" not in services["postgres"]
    assert services["prometheus"]["profiles"] == ["monitoring"] == services["alertmanager"]["profiles"]
    env = services["opsbot"]["environment"]
    assert env["SLACK_BOT_TOKEN_FILE"].startswith("/run/secrets/") and "SLACK_BOT_TOKEN" not in env


def test_every_mounted_file_exists():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).exists(), f"{name} mounts {source}, which does not exist"


def test_prometheus_scrapes_opsbot_and_alertmanager_posts_to_it():
    prom = yaml.safe_load((DOCKER / "prometheus" / "prometheus.yml").read_text())
    [job] = [j for j in prom["scrape_configs"] if j["job_name"] == "opsbot"]
    assert job["static_configs"][0]["targets"] == ["opsbot:3000"] and job["metrics_path"] == "/metrics"
    am = yaml.safe_load((DOCKER / "alertmanager" / "alertmanager.yml").read_text())
    [hook] = am["receivers"][0]["webhook_configs"]
    assert hook["url"] == "http://opsbot:3000/alertmanager"
    assert hook["http_config"]["authorization"]["credentials_file"] == "/etc/alertmanager/opsbot_token"


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool (Debian package prometheus) is not installed")
def test_the_alert_rules_load_in_prometheus():
    done = subprocess.run(
        ["promtool", "check", "rules", str(DOCKER / "prometheus" / "alerts.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_example_config_of_the_image_loads(tmp_path):
    from opsbot.config import load_config

    config = load_config(Path(DOCKER / "config" / "opsbot.yaml"))
    assert config.prometheus.url == "http://prometheus:9090" and "llama-chat" in config.inventory.deployments
