"""A real Prometheus and node_exporter on loopback ports, for the lab and the tests.

`start_node_exporter` runs `prometheus-node-exporter` with a few fast collectors; `start_prometheus`
writes a scrape config (one job per target, the target's labels attached, so one node_exporter can
stand in for several inventory hosts) plus lab alerting rules, starts the server and returns once it is
ready, every target has been scraped and every rule group has been evaluated. `backfill` writes
deterministic history (OpenMetrics text) into the data directory with `promtool` before the server
starts. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from opsbot.lab.process import LabError, Process, Started, http_get, start_on_free_port, wait_until_ready

NODE_EXPORTER = "prometheus-node-exporter"
PROMETHEUS = "prometheus"
PROMTOOL = "promtool"

# Fast collectors that give the metrics the default rules use (cpu, memory, filesystem) and a few more.
NODE_COLLECTORS = ("cpu", "meminfo", "filesystem", "loadavg", "stat", "uname", "time", "netdev", "diskstats")

DATA_DIR = "prometheus-data"

# Alerting rules for the lab: something is always firing at each severity a demo shows.
LAB_ALERT_RULES = """\
groups:
  - name: lab
    rules:
      - alert: LabHeartbeat
        expr: vector(1)
        labels: {severity: info}
        annotations:
          summary: The lab Prometheus is evaluating alerting rules (always firing).
      - alert: HostMemoryAboveLabThreshold
        expr: 100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) > 1
        labels: {severity: warning}
        annotations:
          summary: 'Memory used on {{ $labels.host }} is {{ printf "%.0f" $value }}% (lab threshold 1%).'
      - alert: TargetDown
        expr: up == 0
        labels: {severity: critical}
        annotations:
          summary: '{{ $labels.job }} on {{ $labels.host }} ({{ $labels.instance }}) is down.'
      - alert: DiskWillFillIn24h
        expr: predict_linear(node_filesystem_avail_bytes{fstype!~"tmpfs|overlay|squashfs"}[1h], 86400) < 0
        for: 1m
        labels: {severity: warning}
        annotations:
          summary: 'Filesystem {{ $labels.mountpoint }} on {{ $labels.host }} fills up within a day.'
      - alert: LLMRequestsQueued
        expr: 'vllm:num_requests_waiting > 5'
        labels: {severity: warning}
        annotations:
          summary: '{{ $labels.model_name }} has {{ $value }} requests waiting.'
"""


def binaries_missing(*names: str) -> list[str]:
    """The given executables (default: all this module needs) that are not on PATH."""
    return [n for n in (names or (NODE_EXPORTER, PROMETHEUS, PROMTOOL)) if shutil.which(n) is None]


# ---------------------------------------------------------------------------------------------- node_exporter


@dataclass
class NodeExporter(Started):
    address: str  # "127.0.0.1:PORT"
    _process: Process = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.address}/metrics"


def start_node_exporter(workdir: Path, timeout: float = 15.0) -> NodeExporter:
    """Start node_exporter on a free loopback port; returns once /metrics answers."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    def argv(port: int) -> list[str]:
        return [
            NODE_EXPORTER,
            f"--web.listen-address=127.0.0.1:{port}",
            "--collector.disable-defaults",
            *(f"--collector.{c}" for c in NODE_COLLECTORS),
            "--log.level=warn",
        ]

    port, process = start_on_free_port("node_exporter", workdir, argv, "/metrics", timeout)
    return NodeExporter(address=f"127.0.0.1:{port}", _process=process)


# ---------------------------------------------------------------------------------------------- Prometheus


@dataclass
class PrometheusServer(Started):
    url: str  # "http://127.0.0.1:PORT"
    data_dir: Path
    _process: Process = field(repr=False)

    @property
    def address(self) -> str:
        return self.url.removeprefix("http://")

    def api(self, path: str, **params: str) -> dict:
        """GET a read-only API path (e.g. "/api/v1/targets") and return its `data`."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        status, body = http_get(f"{self.url}{path}{query}", timeout=5)
        doc = json.loads(body)
        if status != 200 or doc.get("status") != "success":
            raise LabError(f"{path} answered {status}: {doc.get('error')}")
        return doc["data"]

    def wait_for(self, promql: str, timeout: float = 30.0) -> list:
        """Poll an instant query until it returns a non-empty result (e.g. a rate needs two scrapes)."""
        deadline = time.monotonic() + timeout
        while True:
            self._process.check_alive()
            result = self.api("/api/v1/query", query=promql)["result"]
            if result:
                return result
            if time.monotonic() > deadline:
                raise LabError(f"{promql!r} still returns nothing after {timeout:.0f}s")
            time.sleep(0.2)


def scrape_config(
    targets: list[dict],
    scrape_interval: str = "1s",
    rule_files: list[str] | None = None,
    alertmanagers: list[str] | None = None,
) -> dict:
    """prometheus.yml as data: one scrape job per distinct (job, labels) so each target keeps its labels."""
    static: dict[str, list[dict]] = {}
    for t in targets:
        if set(t) - {"job", "address", "labels", "path"}:
            raise ValueError(f"unknown target keys {sorted(set(t) - {'job', 'address', 'labels', 'path'})}")
        static.setdefault(t["job"], []).append(t)
    jobs = []
    for job, items in static.items():
        # One scrape_config per job; the same address may appear with different labels (one node_exporter
        # standing in for several hosts), which Prometheus allows within a job as long as labels differ.
        paths = {t.get("path", "/metrics") for t in items}
        for path in sorted(paths):
            group = [t for t in items if t.get("path", "/metrics") == path]
            name = job if len(paths) == 1 else f"{job}{path.replace('/', '_')}"
            jobs.append(
                {
                    "job_name": name,
                    "metrics_path": path,
                    "scrape_interval": scrape_interval,
                    "scrape_timeout": scrape_interval,
                    "static_configs": [
                        {"targets": [t["address"]], "labels": {"job": job, **t.get("labels", {})}} for t in group
                    ],
                }
            )
    cfg: dict = {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
        "scrape_configs": jobs,
    }
    if rule_files:
        cfg["rule_files"] = rule_files
    if alertmanagers:  # "127.0.0.1:PORT" each: firing and resolved alerts are sent there
        cfg["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": alertmanagers}]}]}
    return cfg


def backfill(workdir: Path, series_openmetrics: str) -> Path:
    """Write history into the data dir `start_prometheus(workdir, ...)` uses; call it before starting.

    `series_openmetrics` is OpenMetrics text (timestamps in seconds, ending with `# EOF`, added if
    missing). Returns the data dir."""
    workdir = Path(workdir)
    data = workdir / DATA_DIR
    data.mkdir(parents=True, exist_ok=True)
    text = (
        series_openmetrics
        if series_openmetrics.rstrip().endswith("# EOF")
        else series_openmetrics.rstrip() + "\n# EOF\n"
    )
    src = workdir / f"backfill-{time.time_ns()}.om"
    src.write_text(text if text.endswith("\n") else text + "\n")
    run = subprocess.run(
        [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(src), str(data)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if run.returncode != 0:
        raise LabError(f"promtool could not backfill {src}: {(run.stderr or run.stdout).strip()[-2000:]}")
    return data


def start_prometheus(
    workdir: Path,
    targets: list[dict],
    rules_yaml: str | None = None,
    scrape_interval: str = "1s",
    timeout: float = 30.0,
    extra_args: list[str] | None = None,
    alertmanagers: list[str] | None = None,
) -> PrometheusServer:
    """Start Prometheus on a free loopback port scraping `targets` ({"job", "address", "labels"}).

    `rules_yaml` is a rule file's text; None means LAB_ALERT_RULES. Returns once /-/ready answers,
    every target has been scraped once (up or down) and every rule group has been evaluated."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    rules = workdir / "rules.yml"
    rules.write_text(LAB_ALERT_RULES if rules_yaml is None else rules_yaml)
    config = workdir / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(scrape_config(targets, scrape_interval, [str(rules)], alertmanagers), sort_keys=False)
    )
    check = subprocess.run([PROMTOOL, "check", "config", str(config)], capture_output=True, text=True, timeout=60)
    if check.returncode != 0:
        raise LabError(f"promtool rejects {config}: {(check.stdout + check.stderr).strip()[-2000:]}")
    data = workdir / DATA_DIR
    data.mkdir(parents=True, exist_ok=True)

    def argv(port: int) -> list[str]:
        return [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=90d",
            "--log.level=warn",
            *(extra_args or []),
        ]

    port, process = start_on_free_port("prometheus", workdir, argv, "/-/ready", timeout)
    server = PrometheusServer(url=f"http://127.0.0.1:{port}", data_dir=data, _process=process)
    try:
        distinct = {
            (t["job"], t["address"], t.get("path", "/metrics"), tuple(sorted(t.get("labels", {}).items())))
            for t in targets
        }
        wait_until_ready(
            f"first scrapes and rule evaluations on {server.url}",
            lambda: _settled(server, len(distinct)),
            process,
            timeout,
        )
    except BaseException:
        process.stop()
        raise
    return server


def _settled(server: PrometheusServer, expected_targets: int) -> bool:
    try:
        active = server.api("/api/v1/targets", state="active")["activeTargets"]
        groups = server.api("/api/v1/rules")["groups"]
    except (OSError, LabError, ValueError):
        return False
    scraped = [t for t in active if t.get("health") in ("up", "down")]
    evaluated = all(not g.get("lastEvaluation", "0001").startswith("0001") for g in groups)
    return len(scraped) >= expected_targets and evaluated
