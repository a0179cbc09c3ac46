"""`opsbot serve` as a real subprocess (HTTP mode), for tests and benchmarks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from opsbot.lab.process import free_port

OWN_VARIABLES = ("SLACK_", "OPSBOT_", "OPENAI_")


def opsbot_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m opsbot`."""
    script = Path(sys.executable).parent / "opsbot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "opsbot"]


def clean_env(**variables: str) -> dict[str, str]:
    """This process's environment without any SLACK_/OPSBOT_/OPENAI_ settings, plus `variables`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_VARIABLES)}
    env.update(variables)
    return env


class ServeProcess:
    def __init__(self, proc: subprocess.Popen, host: str, port: int, log: Path):
        self.proc = proc
        self.host = host
        self.port = port
        self.log = log

    @classmethod
    def start(
        cls,
        config: Path,
        env: dict[str, str],
        log: Path,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        workers: int | None = None,
        timeout: float = 60.0,
        extra_args: list[str] | None = None,
        command: list[str] | None = None,
    ) -> ServeProcess:
        """`command` is the opsbot to run (default: the one installed next to this interpreter)."""
        port = port or free_port()
        argv = [
            *(command or opsbot_command()),
            "serve",
            "--config",
            str(config),
            "--mode",
            "http",
            "--host",
            host,
            "--port",
            str(port),
        ]
        if workers:
            argv += ["--workers", str(workers)]
        argv += extra_args or []
        with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
            proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
        server = cls(proc, host, port, log)
        server._wait_ready(timeout)
        return server

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"opsbot serve exited with {self.proc.returncode}:\n{self.log_text()}")
            try:
                if self.health().get("ok"):
                    return
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"opsbot serve did not answer /health within {timeout}s:\n{self.log_text()}")

    def url(self, path: str = "/slack/events") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def health(self) -> dict:
        with urllib.request.urlopen(self.url("/health"), timeout=10) as resp:
            return json.loads(resp.read())

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
