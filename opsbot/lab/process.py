"""Processes the lab starts (Prometheus, node_exporter, sshd): spawning one on a free loopback port,
waiting until it is ready, and stopping it, with its log tail in every error."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class LabError(RuntimeError):
    """A lab component could not be started; the message says which and why (with its log tail)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:  # loopback only: the handles build these URLs
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@dataclass
class Process:
    name: str
    proc: subprocess.Popen
    log: Path
    group: bool = False  # started in its own session: stop() ends the processes it started too

    def stop(self) -> None:
        if self.group:
            self._stop_group()
        elif self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def _stop_group(self) -> None:
        """The process and the ones it started (its own session), by its id."""
        for sig in (signal.SIGTERM, signal.SIGKILL):  # Ray's daemons may outlive a TERM: the group gets a KILL
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=15)
            if sig == signal.SIGTERM:
                time.sleep(1)

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise LabError(f"{self.name} exited with status {self.proc.returncode}:\n{tail(self.log)}")


def spawn(name: str, argv: list[str], log: Path, env: dict[str, str] | None = None, group: bool = False) -> Process:
    """Start argv logging to `log`; with group, in its own session (its process group), so stop() ends
    what it started and nothing else."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=group,
            env={**os.environ, **env} if env else None,
        )
    return Process(name, proc, log, group)


def wait_until_ready(
    what: str, ready: Callable[[], bool], process: Process, timeout: float, interval: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        process.check_alive()
        if ready():
            return
        if time.monotonic() > deadline:
            process.stop()
            raise LabError(f"{what} was not ready within {timeout:.0f}s:\n{tail(process.log)}")
        time.sleep(interval)


def start_on_free_port(
    name: str, workdir: Path, argv: Callable[[int], list[str]], ready_path: str, timeout: float
) -> tuple[int, Process]:
    """Start `argv(port)` on a free loopback port and wait until GET ready_path answers 200. Tried three
    times: the free port may be taken between probing it and the server binding it."""
    last_error: LabError | None = None
    for _ in range(3):
        port = free_port()
        process = spawn(name, argv(port), workdir / f"{name}-{port}.log")

        def ready(port: int = port) -> bool:
            try:
                return http_get(f"http://127.0.0.1:{port}{ready_path}")[0] == 200
            except OSError:
                return False

        try:
            wait_until_ready(f"{name} on 127.0.0.1:{port}", ready, process, timeout)
        except LabError as e:
            process.stop()
            last_error = e
            continue
        return port, process
    raise last_error or LabError(f"{name} did not start")


class Started:
    """stop() and `with` for a handle on a process the lab started."""

    _process: Process

    def stop(self) -> None:
        self._process.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
