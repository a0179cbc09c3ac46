"""The lab itself: what it starts, what it writes, and that it cleans up after itself."""

from __future__ import annotations

import gzip
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from waiting import wait_until

from opsbot.config import load_config
from opsbot.lab import INSTALL_HINT, Lab, LabUnavailable
from opsbot.lab import lab as lab_module
from opsbot.lab.labctl import running
from opsbot.testing import component_missing


def metrics(lab, host, service) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{lab.service_port(host, service)}/metrics", timeout=5) as r:
        return r.read().decode()


def sample(text: str, series: str) -> float:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{series} not in metrics")


def ssh(lab, command: str, target: str | None = "web-1") -> subprocess.CompletedProcess:
    """The OpenSSH client, as a person at a terminal would use the lab (host key pinned, no agent)."""
    argv = [
        "ssh",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"UserKnownHostsFile={lab.known_hosts}",
        "-o",
        "IdentitiesOnly=yes",
        "-i",
        str(lab.key_file),
        "-p",
        str(lab.ssh_port),
    ]
    if target:
        argv += ["-o", f"SetEnv=OPSBOT_TARGET={target}"]
    return subprocess.run([*argv, f"{lab.user}@127.0.0.1", command], capture_output=True, text=True, timeout=30)


def test_the_config_describes_the_lab_inventory_access_and_sources(lab):
    config = load_config(lab.config_path)
    inv = config.inventory
    assert set(inv.hosts) == {"web-1", "web-2", "db-1", "cache-1", "gpu-1"}
    assert inv.groups() == {"web": ["web-1", "web-2"], "db": ["db-1"], "cache": ["cache-1"], "llm": ["gpu-1"]}
    assert {(h.address, h.port) for h in inv.hosts.values()} == {("127.0.0.1", lab.ssh_port)}
    assert inv.hosts["gpu-1"].services == ["vllm", "llm-gateway"]
    assert {d: (v.host, v.service) for d, v in inv.deployments.items()} == {
        "llama-chat": ("gpu-1", "vllm"),
        "reranker": ("gpu-1", "vllm"),
    }
    assert config.access.roles_of("bob") == {"operator", "approver"}
    assert config.access.roles_of("dan") == {"approver", "dba"}
    assert config.access.roles_of("carol") == {"viewer"}
    assert config.ssh.key_file == lab.key_file and config.ssh.known_hosts == lab.known_hosts
    assert config.logs.sources["nginx"].files == [f"{lab.workdir}/hosts/{{host}}/log/nginx.log*"]
    assert config.logs.sources["redis"].journald == "redis"
    if lab.prometheus is not None:
        assert config.prometheus.url == lab.prometheus_url and config.prometheus.host_label == "host"


def test_the_known_hosts_file_works_with_the_openssh_client_and_the_shims_come_first(lab):
    done = ssh(lab, "command -v systemctl sudo journalctl llmctl apt-get")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        str(lab.bin_dir / t) for t in ("systemctl", "sudo", "journalctl", "llmctl", "apt-get")
    ]


def test_lab_commands_never_reach_the_real_system(lab):
    real_unit = ssh(lab, "sudo -n systemctl restart ssh")
    assert real_unit.returncode == 5
    assert real_unit.stderr.strip() == "Failed to restart ssh.service: Unit ssh.service not found."
    other_user = ssh(lab, "sudo -n -u nobody id")
    assert other_user.returncode == 1 and "only as the SSH user" in other_user.stderr
    apt = ssh(lab, "sudo -n apt-get install -y curl")
    assert apt.returncode == 100
    no_target = ssh(lab, "systemctl status nginx", target=None)
    assert no_target.returncode == 1
    assert "does not say which lab host it is" in no_target.stderr


def test_demo_services_export_growing_counters_and_vllm_metrics(lab):
    first = sample(metrics(lab, "web-1", "nginx"), 'http_requests_total{code="200"}')
    wait_until(
        lambda: sample(metrics(lab, "web-1", "nginx"), 'http_requests_total{code="200"}') > first,
        what="the request counter growing",
    )
    vllm = metrics(lab, "gpu-1", "vllm")
    for model in ("llama-chat", "reranker"):
        for name in (
            "vllm:num_requests_running",
            "vllm:num_requests_waiting",
            "vllm:gpu_cache_usage_perc",
            "vllm:e2e_request_latency_seconds_sum",
            "vllm:e2e_request_latency_seconds_count",
        ):
            sample(vllm, f'{name}{{model_name="{model}"}}')
        sample(vllm, f'vllm:request_success_total{{finished_reason="stop",model_name="{model}"}}')
        sample(vllm, f'vllm:e2e_request_latency_seconds_bucket{{le="+Inf",model_name="{model}"}}')
    assert "# TYPE vllm:e2e_request_latency_seconds histogram" in vllm


def test_each_service_has_current_rotated_and_gzipped_logs_in_its_own_format(lab):
    logs = lab.host_dir("web-1") / "log"
    current, one, two = logs / "nginx.log", logs / "nginx.log.1", logs / "nginx.log.2.gz"
    assert re.search(r"\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] ", current.read_text())
    assert re.search(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[error\] ", current.read_text(), re.M)
    assert re.match(r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d web-1 api\[\d+\]: ", (logs / "api.log").read_text())
    assert "needle-old" in gzip.decompress(two.read_bytes()).decode()
    assert time.time() - one.stat().st_mtime > 5 * 3600 and time.time() - two.stat().st_mtime > 24 * 3600
    assert "password=hunter2" in current.read_text()


def test_prometheus_scrapes_every_host_and_every_demo_service(lab):
    if lab.prometheus is None:
        reason = f"Prometheus is not installed ({', '.join(lab.prometheus_missing)}); {INSTALL_HINT}"
        component_missing(reason)
    targets = lab.prometheus.api("/api/v1/targets", state="active")["activeTargets"]
    seen = {(t["labels"]["job"], t["labels"]["host"], t["labels"].get("service")) for t in targets}
    expected = {("node", h, None) for h in lab.hosts}
    expected |= {(svc, h, svc) for h, spec in lab_module.HOSTS.items() for svc in spec["services"]}
    assert seen == expected
    running = lab.prometheus.wait_for('vllm:num_requests_running{host="gpu-1",model_name="llama-chat"}')
    assert running[0]["metric"]["service"] == "vllm"


def test_a_fresh_lab_has_history_enough_for_the_help_examples_forecast(lab, tmp_path):
    if lab.prometheus is None:
        component_missing("Prometheus is not installed (Debian package prometheus)")
    from opsbot.app import build_app
    from opsbot.core.request import Request

    config = lab.config().model_copy(deep=True)
    config.database_url = f"sqlite:///{tmp_path / 'opsbot.db'}"
    with build_app(config, "offline") as app:
        for text in ("when will disk on db-1 fill up", "磁盘什么时候会满 db-1", "memory on web-1 last 3h"):
            reply = app.pipeline.handle(Request(text=text, user="alice", channel="c", thread=text))
            assert reply.kind == "result" and reply.images, (text, reply.text)
            assert "not enough history" not in reply.text and "历史数据还不够" not in reply.text


def test_stop_ends_every_lab_process_even_ones_restarted_over_ssh(tmp_path, sshd_installed):
    own = Lab.start(prometheus=False)
    try:
        assert ssh(own, "sudo -n systemctl restart api").returncode == 0
        assert ssh(own, "sudo -n llmctl scale llama-chat 2", target="gpu-1").returncode == 0
        pids = [own.service_pid(h, s) for h, spec in lab_module.HOSTS.items() for s in spec["services"]]
        pids += [*list(own.replica_pids("llama-chat").values()), own.sshd._process.proc.pid]
        assert all(pids) and all(running(p) for p in pids)
    finally:
        own.stop()
    assert not any(running(p) for p in pids)
    assert not own.workdir.exists()

    kept = tmp_path / "kept"
    with Lab.start(kept, prometheus=False) as given:
        assert given.config_path.parent == kept.resolve()
    assert kept.is_dir()  # a directory the caller gave is left in place


def test_python_m_opsbot_lab_prints_the_config_path_and_stops_on_ctrl_c(sshd_installed):
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsbot.lab", "--no-prometheus"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        path = Path(proc.stdout.readline().strip())
        assert path.name == "opsbot.yaml" and path.is_file()
        assert load_config(path).inventory.hosts["web-1"].port > 0
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        assert not path.parent.exists()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_missing_openssh_server_names_the_packages_to_install(monkeypatch):
    monkeypatch.setattr(lab_module, "SSHD", "/nonexistent/sshd")
    with pytest.raises(LabUnavailable) as e:
        Lab.start()
    assert str(e.value).endswith(
        "install it with: apt-get install -y prometheus prometheus-node-exporter prometheus-alertmanager openssh-server"
    )
