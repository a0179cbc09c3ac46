"""docker/k8s/: valid for Kubernetes (kubernetes-validate, strict), two replicas with readiness on
/ready and liveness on /health, tokens from a Secret as files, config and rules from a ConfigMap that
loads, resource requests, and a PodDisruptionBudget."""

from __future__ import annotations

import subprocess

import yaml
from deploy_helpers import DOCKER, tool

K8S = DOCKER / "k8s"


def manifests() -> dict[str, dict]:
    docs = [d for p in sorted(K8S.glob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d]
    return {d["kind"]: d for d in docs}


def test_kubernetes_validate_accepts_every_manifest():
    files = sorted(str(p) for p in K8S.glob("*.yaml"))
    done = subprocess.run(
        [tool("kubernetes-validate"), "--strict", "--quiet", *files], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_two_replicas_with_readiness_liveness_resources_and_a_disruption_budget():
    m = manifests()
    deployment = m["Deployment"]
    assert deployment["spec"]["replicas"] == 2
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert m["PodDisruptionBudget"]["spec"]["minAvailable"] == 1
    env = {e["name"]: e["value"] for e in container["env"]}
    secret_keys = set(m["Secret"]["stringData"])
    for var in ("SLACK_BOT_TOKEN_FILE", "OPSBOT_DATABASE_URL_FILE"):
        assert env[var].rpartition("/")[2] in secret_keys


def test_the_configmap_config_and_rules_load(tmp_path):
    from opsbot.config import load_config
    from opsbot.rules.loader import load_for

    data = manifests()["ConfigMap"]["data"]
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "team.yaml").write_text(data["team.yaml"])
    config_text = data["config.yaml"].replace("/etc/opsbot/rules", str(rules))
    (tmp_path / "config.yaml").write_text(config_text)
    config = load_config(tmp_path / "config.yaml")
    assert load_for(config).intents()
