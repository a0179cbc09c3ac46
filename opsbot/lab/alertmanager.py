"""A real Alertmanager (Debian package `prometheus-alertmanager`) on a loopback port, for the lab and
the tests: its webhook receiver points at opsbot's POST /alertmanager with a bearer token, and its
timings are short so a lab alert reaches the bot within seconds. The cluster port is disabled (one
instance, nothing to gossip with)."""

from __future__ import annotations

import json
import shutil
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from opsbot.lab.process import LabError, Process, Started, http_get, start_on_free_port

ALERTMANAGER = "prometheus-alertmanager"
# The lab's alerts that go to opsbot; the always-firing demo alerts (LabHeartbeat, the memory one) stay
# in Prometheus for `alerts.list` and are not sent, so the channel is not flooded.
LAB_ALERTS_TO_BOT = ("TargetDown", "DiskWillFillIn24h", "LLMRequestsQueued")


def alertmanager_missing() -> bool:
    return shutil.which(ALERTMANAGER) is None


def alertmanager_config(
    webhook_url: str,
    token: str,
    alertnames: tuple[str, ...] | None = LAB_ALERTS_TO_BOT,
    group_wait: str = "1s",
    group_interval: str = "2s",
    repeat_interval: str = "1m",
) -> dict:
    """alertmanager.yml as data: the alerts named go to opsbot's webhook, the rest nowhere."""
    opsbot = {
        "receiver": "opsbot",
        **({"matchers": [f'alertname=~"{"|".join(alertnames)}"']} if alertnames else {}),
    }
    return {
        "route": {
            "receiver": "nowhere",
            "group_by": ["alertname", "host", "service"],
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": repeat_interval,
            "routes": [opsbot],
        },
        "receivers": [
            {"name": "nowhere"},
            {
                "name": "opsbot",
                "webhook_configs": [
                    {
                        "url": webhook_url,
                        "send_resolved": True,
                        "http_config": {"authorization": {"type": "Bearer", "credentials": token}},
                    }
                ],
            },
        ],
    }


@dataclass
class AlertmanagerServer(Started):
    url: str  # "http://127.0.0.1:PORT"
    _process: Process = field(repr=False)

    @property
    def address(self) -> str:
        return self.url.removeprefix("http://")

    def api(self, path: str) -> object:
        """GET an API v2 path (e.g. "/api/v2/silences") as JSON."""
        status, body = http_get(f"{self.url}{path}", timeout=5)
        if status != 200:
            raise LabError(f"{path} answered {status}")
        return json.loads(body)

    def post_alerts(self, alerts: list[dict]) -> None:
        """Push alerts straight into Alertmanager (as Prometheus would): [{"labels": {...}, ...}]."""
        req = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            if resp.status != 200:
                raise LabError(f"/api/v2/alerts answered {resp.status}")


def start_alertmanager(workdir: Path, config: dict, timeout: float = 30.0) -> AlertmanagerServer:
    """Start Alertmanager with `config` (see alertmanager_config) on a free loopback port; returns once ready."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    data = workdir / "alertmanager-data"
    data.mkdir(exist_ok=True)

    def argv(port: int) -> list[str]:
        return [
            ALERTMANAGER,
            f"--config.file={path}",
            f"--storage.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # no gossip port: one instance
            "--log.level=warn",
        ]

    port, process = start_on_free_port("alertmanager", workdir, argv, "/-/ready", timeout)
    return AlertmanagerServer(url=f"http://127.0.0.1:{port}", _process=process)
