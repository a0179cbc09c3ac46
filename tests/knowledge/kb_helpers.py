"""Helpers for the runbook specs: the lab's runbooks (opsbot/lab/runbooks) and the lab's inventory with
SSH and Prometheus on closed loopback ports (an execution fails fast but is recorded), a real SQLite
store in a temporary folder."""

from __future__ import annotations

from pathlib import Path

from opsbot.config import Config
from opsbot.lab.lab import ACCESS, HOSTS, RUNBOOKS
from opsbot.lab.process import free_port as closed_port  # nothing listens there: a connection fails at once

HERE = Path(__file__).parent
QUESTIONS = HERE / "kb-questions.jsonl"


def lab_config(tmp_path: Path, runbooks: Path = RUNBOOKS, **knowledge) -> Config:
    port = closed_port()
    hosts = {h: {"address": "127.0.0.1", "port": port, **spec} for h, spec in HOSTS.items()}
    (tmp_path / "known_hosts").write_text("")
    return Config(
        inventory={"hosts": hosts},
        access={"users": ACCESS},
        database_url=f"sqlite:///{tmp_path / 'opsbot.db'}",
        prometheus={"url": f"http://127.0.0.1:{closed_port()}", "timeout": 2},
        ssh={"connect_timeout": 2, "known_hosts": str(tmp_path / "known_hosts")},
        knowledge={
            "sources": [{"path": str(runbooks), "base_url": "https://git.example.com/ops/runbooks/blob/main"}],
            **knowledge,
        },
    )
