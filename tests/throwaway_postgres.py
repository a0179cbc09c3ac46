"""A throwaway PostgreSQL server for the specs, from the Debian `postgresql` package: a cluster made with
initdb in a temporary directory, started on a free loopback port, deleted when stopped. PostgreSQL
refuses to run as root, so when we are root it runs as the package's `postgres` user (or `nobody`)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from opsbot.lab.process import free_port

DATABASE = "test"


def server_binaries() -> Path | None:
    """The directory holding initdb and pg_ctl: the newest /usr/lib/postgresql/<major>/bin (where Debian
    puts them, off PATH), else the one on PATH; None when PostgreSQL's server is not installed."""
    debian = Path("/usr/lib/postgresql")
    majors = (
        sorted(
            (d for d in debian.glob("*/bin") if d.parent.name.isdigit()), key=lambda d: int(d.parent.name), reverse=True
        )
        if debian.is_dir()
        else []
    )
    for bindir in majors:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and (Path(initdb).parent / "pg_ctl").exists() else None


def _server_user() -> pwd.struct_passwd | None:
    """Whom to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and there is neither a postgres nor a nobody user to run PostgreSQL as")


class ThrowawayPostgres:
    """`with ThrowawayPostgres.start() as pg:` → a server with an empty database `test` at `pg.url`
    (user postgres, no password, 127.0.0.1 only)."""

    def __init__(self, bindir: Path, root: Path, port: int, user: pwd.struct_passwd | None):
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.port = port
        self.user = user

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    @classmethod
    def start(cls, bindir: Path | None = None, attempts: int = 3) -> ThrowawayPostgres:
        bindir = bindir or server_binaries()
        if bindir is None:
            raise RuntimeError("PostgreSQL's server is not installed (Debian package postgresql)")
        user = _server_user()
        root = Path(tempfile.mkdtemp(prefix="opsbot-pg-"))
        if user:
            os.chown(root, user.pw_uid, user.pw_gid)
        server = cls(bindir, root, 0, user)
        try:
            server._run(
                "initdb", "-D", str(server.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync"
            )
            for attempt in range(attempts):  # the free port may be taken before the server binds it
                server.port = free_port()
                started = server._run(
                    "pg_ctl",
                    "-D",
                    str(server.data),
                    "-l",
                    str(root / "server.log"),
                    "-w",
                    "-t",
                    "120",
                    "-o",
                    f"-c listen_addresses=127.0.0.1 -p {server.port} -k {root} -c fsync=off",
                    "start",
                    check=attempt == attempts - 1,
                )
                if started.returncode == 0:
                    break
            with psycopg.connect(
                f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres", autocommit=True, connect_timeout=30
            ) as conn:
                conn.execute(f"CREATE DATABASE {DATABASE}")
        except BaseException:
            server.stop()
            raise
        return server

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        as_user = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []} if self.user else {}
        done = subprocess.run(
            [str(self.bindir / tool), *args], cwd=self.root, capture_output=True, text=True, timeout=180, **as_user
        )
        if check and done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{tool} failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-2000:]}"
                + (f"\nserver log:\n{tail}" if tail else "")
            )
        return done

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
