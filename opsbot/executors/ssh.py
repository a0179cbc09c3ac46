"""Run a rule's command on inventory hosts over SSH (paramiko).

- Host keys are checked against `ssh.known_hosts`; an unknown or changed key is refused, never added.
- Key authentication with `ssh.key_file` (without one: the usual ~/.ssh keys and the agent).
- Connections are pooled per (address, port, user) and reused while alive; one connection carries up
  to CHANNELS_PER_CONNECTION commands at a time, more open further connections.
- Every command has a deadline (`ssh.command_timeout`, or the action's `timeout`). On the host the
  command runs under coreutils `timeout` so it is killed there, process group and all, at the deadline;
  the bot stops waiting shortly after in any case and shows the output it has.
- stdout and stderr are read together as they arrive; only the first `ssh.max_output` bytes are kept
  and the reply says how much was dropped, so a command printing gigabytes costs no memory.
- Several targets run in parallel, at most `ssh.max_parallel` at a time, with progress reports.
- The session carries OPSBOT_TARGET=<inventory name> (an SSH "env" request; a server without
  `AcceptEnv OPSBOT_TARGET` ignores it). The lab uses it to tell its hosts apart on one sshd.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import select
import shlex
import socket
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from opsbot.config import Config
from opsbot.core.action import Action, ExecutionContext, Progress, Target
from opsbot.core.reply import Reply, Table
from opsbot.executors.fields import BadFields, SSHFields, read_fields
from opsbot.i18n import _
from opsbot.redact import cap, redact

# Paramiko logs handshake failures at ERROR; the executor reports them itself, as sentences.
logging.getLogger("paramiko").addHandler(logging.NullHandler())

CHANNELS_PER_CONNECTION = 8  # below OpenSSH's default MaxSessions (10)
IDLE_SECONDS = 300.0  # pooled connections unused for longer are closed, not reused
KILL_GRACE = 2.0  # after the deadline: time for the host's `timeout` to report back
TARGET_ENV = "OPSBOT_TARGET"


class SSHFault(Exception):
    """Why a command could not run on a host. The template names the host as {host} and its
    address as {addr}, so one fault can be told to every target that shares a connection."""

    def __init__(self, template: str, **values):
        super().__init__(template)
        self.template = template  # already translated (raised while a request is handled)
        self.values = values

    def sentence(self, target: Target) -> str:
        return self.template.format(host=target.name, addr=f"{target.address}:{target.port}", **self.values)


@dataclass
class HostResult:
    target: Target
    ok: bool = False
    exit_code: int | None = None
    stdout: str = ""
    stderr: str = ""
    dropped: int = 0  # bytes of output not kept (over ssh.max_output)
    duration: float = 0.0
    timed_out: bool = False
    fault: str | None = None  # one sentence when the command could not run at all

    @property
    def status(self) -> str:
        if self.fault:
            return _("not run")
        if self.timed_out:
            return _("timed out")
        return _("ok") if self.ok else _("failed")

    def output(self) -> str:
        """stdout, then stderr (marked), then a note on what was dropped."""
        parts = [self.stdout.rstrip("\n")] if self.stdout.strip() else []
        if self.stderr.strip():
            parts.append("[stderr]\n" + self.stderr.rstrip("\n"))
        if self.dropped:
            parts.append(_("… ({count} more bytes of output dropped)").format(count=f"{self.dropped:,}"))
        return "\n".join(parts)


class _Capped:
    """Keeps the first `limit` bytes written to it and counts the rest."""

    def __init__(self, limit: int):
        self.limit = limit
        self.data = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.limit - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        self.dropped += max(0, len(chunk) - max(room, 0))

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


# ------------------------------------------------------------------------------------------ connections


@dataclass(eq=False)
class _Conn:
    client: paramiko.SSHClient
    key: tuple
    users: int = 0
    last_used: float = field(default_factory=time.monotonic)
    broken: bool = False

    def alive(self) -> bool:
        t = self.client.get_transport()
        return (
            not self.broken
            and t is not None
            and t.is_active()
            and t.is_authenticated()
            and time.monotonic() - self.last_used < IDLE_SECONDS
        )


@dataclass(eq=False)
class _Pending:
    reserved: int = 1
    done: bool = False
    fault: SSHFault | None = None


class ConnectionPool:
    """Warm SSH connections keyed by (address, port, user); thread-safe.

    Concurrent requests for a cold key wait for one handshake instead of each making their own, and
    share its failure (a refused connection is reported to all of them at once)."""

    def __init__(
        self, connect: Callable[[Target, float], paramiko.SSHClient], per_connection: int = CHANNELS_PER_CONNECTION
    ):
        self._connect = connect
        self._per = per_connection
        self._cond = threading.Condition()
        self._conns: dict[tuple, list[_Conn]] = {}
        self._pending: dict[tuple, list[_Pending]] = {}

    @staticmethod
    def key(target: Target) -> tuple:
        return (target.address, target.port, target.user)

    def acquire(self, target: Target, timeout: float) -> _Conn:
        """A live connection with a free channel slot; raises SSHFault."""
        key = self.key(target)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                conns = self._conns.setdefault(key, [])
                for c in [c for c in conns if not c.users and not c.alive()]:
                    conns.remove(c)
                    c.client.close()
                for c in conns:
                    if c.users < self._per and c.alive():
                        c.users += 1
                        return c
                pending = next((p for p in self._pending.get(key, []) if p.reserved < self._per), None)
                if pending is None:
                    break
                pending.reserved += 1
                while not pending.done:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise SSHFault("{host} ({addr}) did not complete the SSH handshake in time.")
                    self._cond.wait(left)
                if pending.fault is not None:
                    raise pending.fault
            mine = _Pending()
            self._pending.setdefault(key, []).append(mine)
        try:
            client = self._connect(target, max(0.1, deadline - time.monotonic()))
        except SSHFault as fault:
            with self._cond:
                mine.done, mine.fault = True, fault
                self._pending[key].remove(mine)
                self._cond.notify_all()
            raise
        except BaseException:
            with self._cond:
                mine.done, mine.fault = True, SSHFault(_("Connecting to {host} ({addr}) failed unexpectedly."))
                self._pending[key].remove(mine)
                self._cond.notify_all()
            raise
        conn = _Conn(client=client, key=key, users=1)
        with self._cond:
            self._conns.setdefault(key, []).append(conn)
            mine.done = True
            self._pending[key].remove(mine)
            self._cond.notify_all()
        return conn

    def release(self, conn: _Conn, broken: bool = False) -> None:
        with self._cond:
            conn.users -= 1
            conn.last_used = time.monotonic()
            if broken:
                conn.broken = True
            if conn.broken and conn.users == 0:
                if conn in self._conns.get(conn.key, []):
                    self._conns[conn.key].remove(conn)
                conn.client.close()

    def open_count(self) -> int:
        with self._cond:
            return sum(len(v) for v in self._conns.values())

    def close(self) -> None:
        with self._cond:
            conns = [c for v in self._conns.values() for c in v]
            self._conns.clear()
        for c in conns:
            c.client.close()


# ------------------------------------------------------------------------------------------ executor


def with_deadline(command: str, seconds: float) -> str:
    """`command` for the login shell, run under coreutils `timeout` when the host has it: TERM to the
    command's whole process group at the deadline, KILL two seconds later."""
    return (
        f"if command -v timeout >/dev/null 2>&1; then set -- timeout -k 2 {max(seconds, 0.1):.1f}; "
        f'else set --; fi; exec "$@" "${{SHELL:-/bin/sh}}" -c {shlex.quote(command)}'
    )


class SSHExecutor:
    name = "ssh"

    def __init__(self, config: Config):
        self.config = config
        self.pool = ConnectionPool(self._connect)
        self._key_lock = threading.Lock()
        self._pkey: paramiko.PKey | None = None

    # -------------------------------------------------------------- the Executor protocol

    def run(self, action: Action, ctx: ExecutionContext) -> Reply:
        try:
            fields = read_fields(SSHFields, action)
        except BadFields as e:
            return Reply.error(str(e))
        command = fields.command
        if not command.strip():
            return Reply.error(_("Rule {rule} has no command for the ssh executor.").format(rule=action.rule_id))
        if not action.targets:
            return Reply.error(_("Rule {rule} names no host to run on.").format(rule=action.rule_id))
        results = self.run_many(
            action.targets,
            lambda t: command,
            timeout=fields.timeout,
            ok_exit_codes=tuple(fields.ok_exit_codes),
            progress=ctx.progress,
        )
        return self._reply(results, fields.timeout or self.config.ssh.command_timeout)

    def close(self) -> None:
        self.pool.close()

    # -------------------------------------------------------------- running commands

    def run_many(
        self,
        targets: Iterable[Target],
        command_for: Callable[[Target], str],
        *,
        timeout: float | None = None,
        max_output: int | None = None,
        ok_exit_codes: tuple[int, ...] = (0,),
        progress: Progress | None = None,
    ) -> list[HostResult]:
        """One command per target, at most ssh.max_parallel at a time; results in target order."""
        targets = list(targets)
        if len(targets) == 1:
            return [
                self.execute(
                    targets[0],
                    command_for(targets[0]),
                    timeout=timeout,
                    max_output=max_output,
                    ok_exit_codes=ok_exit_codes,
                )
            ]
        report = progress or (lambda text: None)
        running = _("running on {hosts} hosts… {done} done")
        report(running.format(hosts=len(targets), done=0))
        results: list[HostResult | None] = [None] * len(targets)
        done, last = 0, time.monotonic()
        with ThreadPoolExecutor(min(self.config.ssh.max_parallel, len(targets)), thread_name_prefix="ssh") as pool:
            # each task runs in a copy of this context: the request's language reaches the worker threads
            futures = {
                pool.submit(
                    contextvars.copy_context().run,
                    self.execute,
                    t,
                    command_for(t),
                    timeout=timeout,
                    max_output=max_output,
                    ok_exit_codes=ok_exit_codes,
                ): i
                for i, t in enumerate(targets)
            }
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                done += 1
                if done < len(targets) and time.monotonic() - last >= 1.0:
                    report(running.format(hosts=len(targets), done=done))
                    last = time.monotonic()
        report(running.format(hosts=len(targets), done=done))
        return results  # type: ignore[return-value]

    def execute(
        self,
        target: Target,
        command: str,
        *,
        timeout: float | None = None,
        max_output: int | None = None,
        ok_exit_codes: tuple[int, ...] = (0,),
    ) -> HostResult:
        """Run one command on one host; never raises for SSH or network trouble (see HostResult.fault)."""
        budget = timeout or self.config.ssh.command_timeout
        start = time.monotonic()
        deadline = start + budget
        result = HostResult(target=target)
        chan = conn = None
        try:
            for attempt in (1, 2):
                conn = self.pool.acquire(
                    target, max(0.1, min(deadline - time.monotonic(), self.config.ssh.connect_timeout))
                )
                try:
                    transport = conn.client.get_transport()
                    if transport is None:
                        raise paramiko.SSHException("the connection has no transport")
                    chan = transport.open_session(timeout=max(0.1, deadline - time.monotonic()))
                    break
                except (paramiko.SSHException, EOFError, OSError) as e:
                    self.pool.release(conn, broken=True)
                    conn = None
                    if attempt == 2 or time.monotonic() >= deadline:
                        raise SSHFault(
                            _("{host} ({addr}) would not open an SSH session: {error}."), error=e or type(e).__name__
                        ) from e
            assert chan is not None and conn is not None  # the loop either opened a session or raised
            chan.update_environment({TARGET_ENV: target.name})
            remote_budget = deadline - time.monotonic()
            chan.exec_command(with_deadline(command, remote_budget))
            out, err, code = self._drain(chan, deadline, max_output or self.config.ssh.max_output)
            result.stdout, result.stderr, result.dropped = out.text(), err.text(), out.dropped + err.dropped
            result.exit_code = code
            elapsed = time.monotonic() - start
            if code is None and elapsed < budget:
                conn.broken = True
                raise SSHFault(_("The SSH connection to {host} ({addr}) closed before the command finished."))
            result.timed_out = code is None or (code in (124, 137) and elapsed >= budget - 0.5)
            result.ok = not result.timed_out and code in ok_exit_codes
        except SSHFault as fault:
            result.fault = fault.sentence(target)
        except (paramiko.SSHException, EOFError, OSError) as e:
            result.fault = _("The SSH connection to {host} ({addr}) broke: {error}.").format(
                host=target.name, addr=f"{target.address}:{target.port}", error=e or type(e).__name__
            )
            if conn is not None:
                conn.broken = True
        finally:
            if chan is not None:
                chan.close()
            if conn is not None:
                self.pool.release(conn)
            result.duration = time.monotonic() - start
        return result

    @staticmethod
    def _drain(chan: paramiko.Channel, deadline: float, limit: int) -> tuple[_Capped, _Capped, int | None]:
        """Read stdout and stderr as they come until the command exits and its output ends, or until
        the deadline plus KILL_GRACE. Returns the kept output and the exit status (None: no status)."""
        out, err = _Capped(limit), _Capped(max(4096, limit // 8))
        exited_at = None
        while True:
            got = False
            while chan.recv_ready():
                out.add(chan.recv(65536))
                got = True
            while chan.recv_stderr_ready():
                err.add(chan.recv_stderr(65536))
                got = True
            now = time.monotonic()
            if chan.exit_status_ready():
                exited_at = exited_at or now
                # Output normally ends (EOF) right after the status; a background child that keeps the
                # channel open must not hold the reply for long.
                if (
                    (chan.eof_received or now - exited_at > 1.0)
                    and not chan.recv_ready()
                    and not chan.recv_stderr_ready()
                ):
                    return out, err, chan.recv_exit_status()
            elif chan.closed:  # the connection went away without an exit status
                return out, err, None
            if now >= deadline + KILL_GRACE:
                return out, err, None
            if not got:
                select.select([chan], [], [], min(0.05, max(0.0, deadline + KILL_GRACE - now)))

    def _key(self) -> paramiko.PKey | None:
        path = self.config.ssh.key_file
        if path is None:
            return None
        with self._key_lock:
            if self._pkey is None:
                try:
                    self._pkey = paramiko.PKey.from_path(str(path))
                except FileNotFoundError:
                    raise SSHFault(_("The SSH key file {path} (ssh.key_file) does not exist."), path=path) from None
                except PermissionError:
                    raise SSHFault(
                        _("The SSH key file {path} (ssh.key_file) is not readable by the bot."), path=path
                    ) from None
                except paramiko.PasswordRequiredException:
                    raise SSHFault(
                        _("The SSH key file {path} is protected by a passphrase; give the bot a key without one."),
                        path=path,
                    ) from None
                except (paramiko.SSHException, ValueError) as e:
                    raise SSHFault(
                        _("The SSH key file {path} is not a private key the bot can read ({error})."),
                        path=path,
                        error=e,
                    ) from None
            return self._pkey

    def _connect(self, target: Target, timeout: float) -> paramiko.SSHClient:
        cfg = self.config.ssh
        known = Path(cfg.known_hosts) if cfg.known_hosts else Path.home() / ".ssh" / "known_hosts"
        pkey = self._key()
        try:
            sock = socket.create_connection((target.address, target.port), timeout=timeout)
        except ConnectionRefusedError:
            raise SSHFault(_("sshd on {host} ({addr}) refused the connection; is it running?")) from None
        except TimeoutError:
            raise SSHFault(
                _("{host} ({addr}) did not answer within {seconds} s; is the host up and the port open?"),
                seconds=f"{timeout:.0f}",
            ) from None
        except OSError as e:
            raise SSHFault(_("Cannot reach {host} ({addr}): {error}."), error=e.strerror or e) from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        with contextlib.suppress(FileNotFoundError):  # no file: every key is unknown, RejectPolicy refuses below
            client.load_host_keys(str(known))
        try:
            client.connect(
                target.address,
                port=target.port,
                username=target.user,
                pkey=pkey,
                sock=sock,
                timeout=timeout,
                banner_timeout=timeout,
                auth_timeout=timeout,
                channel_timeout=timeout,
                look_for_keys=pkey is None,
                allow_agent=pkey is None,
            )
        except paramiko.BadHostKeyException:
            client.close()
            raise SSHFault(
                _(
                    "The host key of {host} ({addr}) does not match the one pinned in {known}: it changed "
                    "or someone is in between, so I refused to connect."
                ),
                known=known,
            ) from None
        except paramiko.AuthenticationException:
            client.close()
            how = _("the key {path}").format(path=cfg.key_file) if cfg.key_file else _("the available keys")
            raise SSHFault(_("{host} ({addr}) rejected {how} for user {user}."), how=how, user=target.user) from None
        except paramiko.SSHException as e:
            client.close()
            text = str(e)
            if "not found in known_hosts" in text:
                where = known if known.exists() else _("{path}, which does not exist").format(path=known)
                raise SSHFault(
                    _(
                        "{host} ({addr}) is not in the known_hosts file {where}, so I refused to connect; "
                        "verify its host key and add it there."
                    ),
                    where=where,
                ) from None
            if "banner" in text.lower():
                raise SSHFault(
                    _("{host} ({addr}) accepted the connection but did not speak SSH within {seconds} s."),
                    seconds=f"{timeout:.0f}",
                ) from None
            raise SSHFault(_("The SSH handshake with {host} ({addr}) failed: {error}."), error=text) from None
        except TimeoutError:
            client.close()
            raise SSHFault(
                _("{host} ({addr}) did not finish the SSH handshake within {seconds} s."), seconds=f"{timeout:.0f}"
            ) from None
        except (OSError, EOFError) as e:
            client.close()
            raise SSHFault(
                _("The connection to {host} ({addr}) dropped during the SSH handshake ({error})."),
                error=e or type(e).__name__,
            ) from None
        transport = client.get_transport()
        if transport is not None:  # connect() succeeded, so it has one
            transport.set_keepalive(30)
        return client

    # -------------------------------------------------------------- the reply

    def _reply(self, results: list[HostResult], budget: float) -> Reply:
        limit = self.config.ssh.max_output
        if len(results) == 1:
            r = results[0]
            name = r.target.name
            if r.fault:
                return Reply.error(r.fault)
            code = redact(r.output()) or None  # already bounded: max_output bytes, stderr a share
            if r.timed_out:
                return Reply.error(
                    (
                        _("The command on {host} timed out after {seconds} s and was stopped; partial output below.")
                        if code
                        else _("The command on {host} timed out after {seconds} s and was stopped; it printed nothing.")
                    ).format(host=name, seconds=f"{budget:g}"),
                    code=code,
                )
            line = _("{host}: {status} (exit {code}, {seconds} s)").format(
                host=name, status=r.status, code=r.exit_code, seconds=f"{r.duration:.2f}"
            )
            return Reply(text=line, kind="result" if r.ok else "error", code=code)
        rows, sections = [], []
        per_host = max(2000, limit // len(results))
        for r in results:
            detail = r.fault or _last_line(r.stdout or r.stderr)
            rows.append(
                [
                    r.target.name,
                    r.status,
                    "" if r.exit_code is None else str(r.exit_code),
                    f"{r.duration:.2f} s",
                    redact(detail)[:120],
                ]
            )
            if not r.fault:
                sections.append(
                    cap(f"── {r.target.name} · {r.status} · exit {r.exit_code} ──\n{r.output()}".rstrip(), per_host)
                )
        ok = [r for r in results if r.ok]
        bad = [r for r in results if not r.ok]
        text = _("{ok} of {count} hosts ok").format(ok=len(ok), count=len(results))
        if bad:
            text += "; " + ", ".join(f"{r.target.name} {r.status}" for r in bad[:10])
            if len(bad) > 10:
                text += " " + _("and {count} more").format(count=len(bad) - 10)
        return Reply(
            text=text,
            kind="error" if not ok else "result",
            tables=[Table(columns=[_("host"), _("result"), _("exit"), _("time"), _("output")], rows=rows)],
            code=redact("\n".join(sections)) or None,
        )


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""
