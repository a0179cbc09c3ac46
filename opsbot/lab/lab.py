"""A local lab: a real sshd reachable as several inventory hosts, small demo services per (host,
service) with Prometheus metrics and log files, command shims so restarts and scaling really happen
(to lab processes only), Prometheus scraping it all, and a config file that points opsbot at it.

    with Lab.start() as lab:
        config = load_config(lab.config_path)

Everything listens on 127.0.0.1 and lives under `lab.workdir`; `stop()` ends every process the lab
started (including ones restarted over SSH since) and removes the directory if the lab made it.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from opsbot.lab import labctl
from opsbot.lab.alertmanager import alertmanager_config, alertmanager_missing, start_alertmanager
from opsbot.lab.process import LabError, free_port
from opsbot.lab.prometheus import binaries_missing
from opsbot.lab.samplelogs import write_host_clutter, write_sample_logs
from opsbot.lab.sshd import SSHD, SSHServer, start_sshd

INSTALL_HINT = "apt-get install -y prometheus prometheus-node-exporter prometheus-alertmanager openssh-server"

HOSTS: dict[str, dict[str, list[str]]] = {
    "web-1": {"groups": ["web"], "services": ["nginx", "api"]},
    "web-2": {"groups": ["web"], "services": ["nginx", "api"]},
    "db-1": {"groups": ["db"], "services": ["postgresql"]},
    "cache-1": {"groups": ["cache"], "services": ["redis"]},
    "gpu-1": {"groups": ["llm"], "services": ["vllm", "llm-gateway"]},
}
DEPLOYMENTS: dict[str, dict[str, Any]] = {
    "llama-chat": {"host": "gpu-1", "service": "vllm", "versions": ["v1.0", "v1.1"]},
    "reranker": {"host": "gpu-1", "service": "vllm", "versions": ["r0.9"]},
}
RUNBOOKS = Path(__file__).parent / "runbooks"  # the lab's own runbooks, for kb.ask
JOURNALD_SERVICES = {"redis"}  # read through `journalctl -u`, the others from files
ACCESS = {"alice": ["operator"], "bob": ["operator", "approver"], "carol": ["viewer"], "dan": ["approver", "dba"]}


class LabUnavailable(LabError):
    """A Debian package the lab needs is not installed."""


def extra_host_names(n: int) -> list[str]:
    width = max(2, len(str(n)))
    return [f"lab-{i:0{width}d}" for i in range(1, n + 1)]


@dataclass
class Lab:
    workdir: Path
    owns_workdir: bool
    extra_hosts: list[str] = field(default_factory=list)
    sshd: SSHServer | None = None
    prometheus: Any = None  # opsbot.lab.prometheus.PrometheusServer
    node_exporter: Any = None
    prometheus_missing: list[str] = field(default_factory=list)
    alertmanager: Any = None  # opsbot.lab.alertmanager.AlertmanagerServer (with Prometheus, when installed)
    bot_port: int = 0  # where the lab's Alertmanager sends its webhooks: opsbot's HTTP port (slack.port)
    alert_token: str = ""  # the bearer token it sends (alertmanager.token in the lab's config)
    _stopped: bool = False

    # ------------------------------------------------------------------ start / stop

    @classmethod
    def start(cls, workdir: Path | None = None, extra_hosts: int = 0, prometheus: bool | None = None) -> Lab:
        """Start the lab. `prometheus`: True requires it, False leaves it out, None (default) starts it
        when its packages are installed (see `prometheus_missing` otherwise)."""
        if not Path(SSHD).exists():
            raise LabUnavailable(
                f"the lab needs an OpenSSH server ({SSHD} is missing); install it with: {INSTALL_HINT}"
            )
        missing = binaries_missing() if prometheus is not False else []
        if prometheus and missing:
            raise LabUnavailable(f"the lab needs {', '.join(missing)}; install them with: {INSTALL_HINT}")
        owns = workdir is None
        root = (Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="opsbot-lab-"))).resolve()
        root.mkdir(parents=True, exist_ok=True)
        lab = cls(
            workdir=root, owns_workdir=owns, extra_hosts=extra_host_names(extra_hosts), prometheus_missing=missing
        )
        atexit.register(lab.stop)  # a run that forgets stop() still cleans up
        try:
            lab._start(with_prometheus=prometheus is not False and not missing)
        except BaseException:
            lab.stop()
            raise
        return lab

    def _start(self, with_prometheus: bool) -> None:
        now = time.time()
        state = self._write_state()
        self._write_shims()
        for host, spec in HOSTS.items():
            write_host_clutter(self.host_dir(host), now)
            for service in spec["services"]:
                write_sample_logs(self.host_dir(host) / "log", host, service, now)
        for host in self.extra_hosts:
            write_host_clutter(self.host_dir(host), now)
        self.sshd = start_sshd(self.workdir / "ssh", self.bin_dir)
        pids = {
            (host, svc): labctl.start_service(state, host, svc, wait=False)
            for host, spec in HOSTS.items()
            for svc in spec["services"]
        }
        for dep, dep_spec in DEPLOYMENTS.items():
            labctl.scale_replicas(state, dep_spec["host"], dep, 1)
        for (host, svc), pid in pids.items():
            labctl.wait_listening(state.known_service(host, svc)["port"], pid)
        if with_prometheus:
            self._start_prometheus(state)
        self.config_path.write_text(yaml.safe_dump(self.config_data(), sort_keys=False))

    def _write_state(self) -> labctl.State:
        hosts: dict[str, Any] = {}
        for host, spec in HOSTS.items():
            services = {}
            for svc in spec["services"]:
                models = [d for d, dspec in DEPLOYMENTS.items() if dspec["host"] == host and dspec["service"] == svc]
                services[svc] = {
                    "port": free_port(),
                    "kind": "vllm" if svc == "vllm" else "generic",
                    "models": models,
                    "version": "1.0",
                }
            hosts[host] = {"services": services}
        for host in self.extra_hosts:
            hosts[host] = {"services": {}}
        (self.workdir / "lab.json").write_text(
            json.dumps(
                {"python": sys.executable, "owner": os.getpid(), "hosts": hosts, "deployments": DEPLOYMENTS}, indent=1
            )
        )
        return labctl.State(str(self.workdir))

    def _write_shims(self) -> None:
        self.bin_dir.mkdir(parents=True, exist_ok=True)
        for tool in labctl.TOOLS:
            shim = self.bin_dir / tool
            shim.write_text(
                "#!/bin/sh\n# opsbot lab shim: acts on the lab's demo services only\n"
                f"exec {shlex.quote(sys.executable)} -I -S {shlex.quote(labctl.__file__)} "
                f'{shlex.quote(str(self.workdir))} {tool} "$@"\n'
            )
            shim.chmod(0o755)

    def _start_prometheus(self, state: labctl.State) -> None:
        from opsbot.lab.history import recent_history
        from opsbot.lab.prometheus import backfill, start_node_exporter, start_prometheus

        pdir = self.workdir / "prometheus"
        self.node_exporter = start_node_exporter(pdir)
        # a few hours of history under the live series' own labels: forecasts work from the start
        backfill(pdir, recent_history(list(self.hosts), int(time.time()), instance=self.node_exporter.address))
        targets = [{"job": "node", "address": self.node_exporter.address, "labels": {"host": h}} for h in self.hosts]
        for host, spec in HOSTS.items():
            for svc in spec["services"]:
                targets.append(
                    {
                        "job": svc,
                        "address": f"127.0.0.1:{state.known_service(host, svc)['port']}",
                        "labels": {"host": host, "service": svc},
                    }
                )
        alertmanagers = []
        if not alertmanager_missing():
            # Alertmanager first: Prometheus then sends to it from its first rule evaluation.
            self.bot_port = free_port()
            self.alert_token = secrets.token_urlsafe(24)
            self.alertmanager = start_alertmanager(
                self.workdir / "alertmanager",
                alertmanager_config(f"http://127.0.0.1:{self.bot_port}/alertmanager", self.alert_token),
            )
            alertmanagers.append(self.alertmanager.address)
        self.prometheus = start_prometheus(pdir, targets, alertmanagers=alertmanagers)
        # the first question is often "cpu on web-1": a rate needs two scrapes, not the one start waits for
        self.prometheus.wait_for("rate(node_cpu_seconds_total[1m])")

    def stop(self) -> None:
        """Stop everything the lab started; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        for part in (self.prometheus, self.alertmanager, self.node_exporter, self.sshd):
            if part is not None:
                with contextlib.suppress(Exception):
                    part.stop()
        self._kill_lab_processes()
        if self.owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _kill_lab_processes(self) -> None:
        """Every process carrying this lab's marker: demo services, replicas, and their restarts."""
        marker = f"{labctl.MARKER}={self.workdir}".encode()
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if marker in f.read().split(b"\0"):
                        pids.append(int(entry))
            except OSError:
                continue
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in pids:
            labctl.terminate(pid, timeout=2.0)  # already signalled: waits, then SIGKILL
        for pid in pids:  # reap the ones that are our children
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ what the lab offers

    @property
    def config_path(self) -> Path:
        return self.workdir / "opsbot.yaml"

    @property
    def bin_dir(self) -> Path:
        return self.workdir / "bin"

    def _sshd(self) -> SSHServer:
        if self.sshd is None:
            raise LabError("the lab's sshd is not running (the lab was stopped, or never started)")
        return self.sshd

    @property
    def hosts(self) -> list[str]:
        return list(HOSTS) + self.extra_hosts

    @property
    def ssh_port(self) -> int:
        return self._sshd().port

    @property
    def user(self) -> str:
        return self._sshd().user

    @property
    def key_file(self) -> Path:
        return self._sshd().user_key

    @property
    def known_hosts(self) -> Path:
        return self._sshd().known_hosts

    @property
    def prometheus_url(self) -> str | None:
        return self.prometheus.url if self.prometheus is not None else None

    def host_dir(self, host: str) -> Path:
        return self.workdir / "hosts" / host

    def log_file(self, host: str, service: str) -> Path:
        return self.host_dir(host) / "log" / f"{service}.log"

    def service_port(self, host: str, service: str) -> int:
        """The loopback port where the demo service serves /metrics."""
        port: int = labctl.State(str(self.workdir)).known_service(host, service)["port"]
        return port

    def service_pid(self, host: str, service: str) -> int | None:
        """The running demo service's pid (None when stopped)."""
        return labctl.read_pid(labctl.State(str(self.workdir)).pidfile(host, service))

    def replica_pids(self, deployment: str) -> dict[int, int]:
        state = labctl.State(str(self.workdir))
        return labctl.replicas(state, DEPLOYMENTS[deployment]["host"], deployment)

    def config(self):
        from opsbot.config import load_config

        return load_config(self.config_path)

    @contextlib.contextmanager
    def sshd_down(self) -> Iterator[None]:
        """sshd stopped for the duration (connections opened before stay up, as with a real sshd)."""
        self._sshd().stop()
        try:
            yield
        finally:
            self._sshd().start()

    def config_data(self) -> dict[str, Any]:
        hosts = {
            h: {"address": "127.0.0.1", "port": self.ssh_port, "groups": spec["groups"], "services": spec["services"]}
            for h, spec in HOSTS.items()
        }
        hosts.update({h: {"address": "127.0.0.1", "port": self.ssh_port, "groups": ["lab"]} for h in self.extra_hosts})
        sources: dict[str, Any] = {}
        for svc in dict.fromkeys(s for spec in HOSTS.values() for s in spec["services"]):
            sources[svc] = (
                {"journald": svc}
                if svc in JOURNALD_SERVICES
                else {"files": [f"{self.workdir}/hosts/{{host}}/log/{svc}.log*"]}
            )
        data: dict[str, Any] = {
            "inventory": {"hosts": hosts, "deployments": DEPLOYMENTS},
            "access": {"users": ACCESS},
            "ssh": {
                "user": self.user,
                "key_file": str(self.key_file),
                "known_hosts": str(self.known_hosts),
                "connect_timeout": 5,
                "command_timeout": 30,
                "max_parallel": 32,
            },
            "logs": {"sources": sources, "max_lines": 20},
            "database_url": f"sqlite:///{self.workdir / 'opsbot.db'}",
            "knowledge": {"sources": [{"path": str(RUNBOOKS), "name": "lab-runbooks"}]},
        }
        if self.prometheus is not None:
            data["prometheus"] = {"url": self.prometheus.url, "host_label": "host"}
        if self.alertmanager is not None:
            data["alertmanager"] = {"url": self.alertmanager.url, "token": self.alert_token, "channel": "lab-alerts"}
            data["slack"] = {"port": self.bot_port}  # opsbot serve / chat take the lab's webhooks here
        return data

    # ------------------------------------------------------------------ making alerts fire on purpose

    def stop_service(self, host: str, service: str) -> None:
        """Stop a demo service: its target goes down and TargetDown fires (within seconds)."""
        labctl.stop_service(labctl.State(str(self.workdir)), host, service)

    def start_service(self, host: str, service: str) -> None:
        """Start it again: the alert resolves."""
        labctl.start_service(labctl.State(str(self.workdir)), host, service)
