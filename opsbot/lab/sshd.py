"""A real OpenSSH server on a loopback port for the lab: its own sshd_config, a throwaway ed25519 host
key, a throwaway user key and a known_hosts file pinning `[127.0.0.1]:PORT`. It runs as the current
user (as root with privilege separation, otherwise unprivileged) and accepts only that user's key.

Sessions get the lab's bin directory first on PATH through `SetEnv` (so `systemctl`, `sudo`,
`journalctl`, `llmctl` and `apt-get` are the lab's shims) and `SHLVL=1`, which keeps bash from sourcing
~/.bashrc for SSH commands (bash does that when it sees SSH_CLIENT and SHLVL < 2): a .bashrc that
rewrites PATH would put the real tools back in front, and it costs time on every command.
"""

from __future__ import annotations

import ctypes
import getpass
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from opsbot.lab.process import LabError, Process, free_port, tail

SSHD = "/usr/sbin/sshd"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ACCEPTED_ENV = "OPSBOT_TARGET"  # the SSH executor names the inventory host a session is for


def write_keypair(private_path: Path, comment: str) -> str:
    """A new ed25519 key in OpenSSH format (mode 0600); returns the public key line."""
    key = Ed25519PrivateKey.generate()
    private_path.parent.mkdir(parents=True, exist_ok=True)
    private_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    )
    private_path.chmod(0o600)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    line = f"{public} {comment}"
    private_path.with_name(private_path.name + ".pub").write_text(line + "\n")
    return line


def known_hosts_line(port: int, public_line: str) -> str:
    kind, blob = public_line.split()[:2]
    return f"[127.0.0.1]:{port} {kind} {blob}"


@dataclass
class SSHServer:
    """The lab's sshd. `stop()` and `start()` take it down and bring it back on the same port."""

    workdir: Path
    bin_dir: Path
    user: str
    port: int = 0
    host_key: Path = field(init=False)
    user_key: Path = field(init=False)
    known_hosts: Path = field(init=False)
    _process: Process | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.host_key = self.workdir / "ssh_host_ed25519_key"
        self.user_key = self.workdir / "id_ed25519"
        self.known_hosts = self.workdir / "known_hosts"

    @property
    def config_file(self) -> Path:
        return self.workdir / "sshd_config"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.proc.poll() is None

    def prepare(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._host_public = write_keypair(self.host_key, "opsbot-lab-host")
        user_public = write_keypair(self.user_key, "opsbot-lab-user")
        authorized = self.workdir / "authorized_keys"
        authorized.write_text(user_public + "\n")
        authorized.chmod(0o600)

    def _write_config(self) -> None:
        root = os.geteuid() == 0
        self.config_file.write_text(
            "\n".join(
                [
                    "# opsbot lab sshd: loopback only, key auth only, the current user only",
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"PidFile {self.workdir / 'sshd.pid'}",
                    f"AuthorizedKeysFile {self.workdir / 'authorized_keys'}",
                    f"AllowUsers {self.user}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "HostbasedAuthentication no",
                    "PermitEmptyPasswords no",
                    f"PermitRootLogin {'prohibit-password' if root else 'no'}",
                    "UsePAM no",
                    "StrictModes no",
                    "PermitUserEnvironment no",
                    "PermitUserRC no",
                    "PrintMotd no",
                    "PrintLastLog no",
                    "UseDNS no",
                    "X11Forwarding no",
                    "AllowTcpForwarding no",
                    "AllowAgentForwarding no",
                    f"AcceptEnv {ACCEPTED_ENV}",
                    f"SetEnv PATH={self.bin_dir}:{SYSTEM_PATH} SHLVL=1",
                    "MaxStartups 256:30:512",
                    "MaxSessions 256",
                    "MaxAuthTries 4",
                    "LoginGraceTime 20",
                    "ClientAliveInterval 15",
                    "LogLevel ERROR",
                    "",
                ]
            )
        )

    def start(self, timeout: float = 10.0) -> None:
        """Start sshd (on a free port the first time, the same port afterwards) and wait for its banner."""
        if not Path(SSHD).exists():
            raise FileNotFoundError(SSHD)
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation directory
        attempts = 1 if self.port else 3
        for _ in range(attempts):
            if attempts > 1:
                self.port = free_port()
            self._write_config()
            check = subprocess.run([SSHD, "-t", "-f", str(self.config_file)], capture_output=True, text=True)
            if check.returncode != 0:
                raise LabError(f"sshd rejects {self.config_file}: {(check.stderr or check.stdout).strip()}")
            log = self.workdir / "sshd.log"
            with open(log, "ab") as out:
                proc = subprocess.Popen(
                    [SSHD, "-D", "-f", str(self.config_file), "-E", str(log)],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_parent(),
                )
            self._process = Process("sshd", proc, log)
            if self._wait_banner(timeout):
                (self.known_hosts).write_text(known_hosts_line(self.port, self._host_public) + "\n")
                return
            self.stop()
        raise LabError(f"sshd did not answer on 127.0.0.1:{self.port}:\n{tail(self.workdir / 'sshd.log')}")

    def _wait_banner(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(64).startswith(b"SSH-2.0-"):
                        return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None


def _die_with_parent():
    """On Linux, from the main thread: sshd gets SIGTERM when the process running the lab dies, even by
    SIGKILL, instead of lingering on its port. (A thread's exit would trigger it too, hence main only.)"""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def start_sshd(workdir: Path, bin_dir: Path, user: str | None = None) -> SSHServer:
    server = SSHServer(workdir=workdir, bin_dir=bin_dir, user=user or getpass.getuser())
    server.prepare()
    server.start()
    return server
