"""The lab hosts' side: the demo services' process control and the command shims SSH sessions see.

The lab puts small wrappers named `systemctl`, `sudo`, `journalctl`, `llmctl` and `apt-get` first on
the PATH of its SSH sessions; each runs `python -I -S labctl.py LAB_DIR TOOL ARGS...`. They act only on
the lab's own demo services and files under LAB_DIR, never on the machine's real services: the host a
session stands for comes from the OPSBOT_TARGET variable the SSH executor sends (sshd accepts it).

Stdlib only, like demo_service.py, so a shim starts in a few milliseconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from typing import Any

try:
    from opsbot.lab import demo_service as demo
except ImportError:  # run as a script with -I -S: the package is not importable, the file is
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import demo_service as demo  # type: ignore[no-redef,import-not-found]

DEMO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "demo_service.py")
MARKER = "OPSBOT_LAB_DIR"  # environment variable every lab process carries (for clean-up)
TOOLS = ("systemctl", "sudo", "journalctl", "llmctl", "apt-get")


class Fail(Exception):
    """A shim error: message for stderr and the exit code the real tool would use."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


# ------------------------------------------------------------------------------------------ state


class State:
    """lab.json (written by Lab.start) and the paths of one lab's hosts."""

    def __init__(self, root: str):
        self.root = root
        with open(os.path.join(root, "lab.json")) as f:
            data = json.load(f)
        self.python: str = data["python"]
        self.owner: int = data.get("owner", 0)  # the process that runs the lab
        self.hosts: dict = data["hosts"]
        self.deployments: dict = data["deployments"]

    def host_dir(self, host: str, *parts: str) -> str:
        return os.path.join(self.root, "hosts", host, *parts)

    def service(self, host: str, name: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.hosts.get(host, {}).get("services", {}).get(name)
        return found

    def known_service(self, host: str, name: str) -> dict[str, Any]:
        svc = self.service(host, name)
        if svc is None:
            raise Fail(f"Unit {name}.service not found on {host}.", 5)
        return svc

    def pidfile(self, host: str, service: str) -> str:
        return self.host_dir(host, "run", f"{service}.pid")

    def logfile(self, host: str, service: str) -> str:
        return self.host_dir(host, "log", f"{service}.log")

    def versions_file(self, host: str, deployment: str) -> str:
        return self.host_dir(host, "llm", deployment, "versions")

    def replica_dir(self, host: str, deployment: str) -> str:
        return self.host_dir(host, "llm", deployment, "replicas")


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat (start time in ticks), None when gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else fields[19]


def running(pid: int) -> bool:
    """The process exists and is not a zombie waiting to be reaped."""
    return _start_time(pid) is not None


def read_pid(pidfile: str) -> int | None:
    """The pid in a pidfile if that very process is still running (start time guards against reuse)."""
    try:
        with open(pidfile) as f:
            pid_s, started = f.read().split()
    except (OSError, ValueError):
        return None
    pid = int(pid_s)
    return pid if _start_time(pid) == started else None


def spawn(state: State, pidfile: str, args: list[str], out: str) -> int:
    """Start a demo process detached from the caller (own session, no inherited stdio) and record it."""
    os.makedirs(os.path.dirname(pidfile), exist_ok=True)
    with open(out, "ab") as log:
        proc = subprocess.Popen(
            [state.python, "-I", "-S", DEMO, "--lab", state.root, "--owner", str(state.owner), *args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
            env={MARKER: state.root, "PATH": os.defpath, "LC_ALL": "C.UTF-8"},
        )
    started = None
    for _ in range(100):
        started = _start_time(proc.pid)
        if started:
            break
        time.sleep(0.001)
    tmp = f"{pidfile}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{proc.pid} {started}\n")
    os.replace(tmp, pidfile)
    return proc.pid


def terminate(pid: int, timeout: float = 5.0) -> None:
    started = _start_time(pid)
    if started is None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _start_time(pid) != started:
            return
        time.sleep(0.01)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def start_service(state: State, host: str, name: str, wait: bool = True) -> int:
    svc = state.known_service(host, name)
    args = [
        "--host",
        host,
        "--service",
        name,
        "--kind",
        svc["kind"],
        "--port",
        str(svc["port"]),
        "--log",
        state.logfile(host, name),
        "--models",
        ",".join(svc.get("models", [])),
        "--version",
        svc.get("version", "1.0"),
    ]
    pid = spawn(state, state.pidfile(host, name), args, state.host_dir(host, "run", f"{name}.out"))
    if wait:
        wait_listening(svc["port"], pid)
    return pid


def wait_listening(port: int, pid: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if _start_time(pid) is None:
                raise Fail(f"the demo service (pid {pid}) exited during start; see its .out file", 1) from None
            time.sleep(0.01)
    raise Fail(f"the demo service (pid {pid}) is not listening on 127.0.0.1:{port} after {timeout:.0f}s", 1)


def stop_service(state: State, host: str, name: str) -> None:
    pid = read_pid(state.pidfile(host, name))
    if pid:
        terminate(pid)
    with contextlib.suppress(FileNotFoundError):
        os.remove(state.pidfile(host, name))


# ------------------------------------------------------------------------------------------ shims


def target_host(state: State) -> str:
    host = os.environ.get("OPSBOT_TARGET", "")
    if host not in state.hosts:
        known = ", ".join(sorted(state.hosts))
        raise Fail(
            f"lab: this SSH session does not say which lab host it is (OPSBOT_TARGET={host!r}); "
            f"send OPSBOT_TARGET=<one of {known}> (e.g. ssh -o SetEnv=OPSBOT_TARGET=web-1)",
            1,
        )
    return host


def _unit(name: str) -> str:
    return name[: -len(".service")] if name.endswith(".service") else name


def systemctl(state: State, argv: list[str]) -> int:
    host = target_host(state)
    props, value, lines, words = [], False, 10, []
    it = iter(argv)
    for a in it:
        if a in ("-p", "--property"):
            props += next(it, "").split(",")
        elif a.startswith("--property="):
            props += a.split("=", 1)[1].split(",")
        elif a == "--value":
            value = True
        elif a in ("-n", "--lines"):
            lines = int(next(it, "10"))
        elif a.startswith("--lines="):
            lines = int(a.split("=", 1)[1])
        elif a.startswith("-"):
            continue  # --no-pager, -q, --quiet, --full ...
        else:
            words.append(a)
    if not words:
        raise Fail("systemctl (lab): supported verbs are start, stop, restart, is-active, status, show", 1)
    verb, units = words[0], [_unit(u) for u in words[1:]]
    if not units:
        raise Fail("Too few arguments.", 1)
    code = 0
    for unit in units:
        known = state.service(host, unit) is not None
        pid = read_pid(state.pidfile(host, unit)) if known else None
        if verb == "is-active":
            print("active" if pid else "inactive")
            code = code or (0 if pid else 3)
        elif verb in ("start", "stop", "restart"):
            if not known:
                print(f"Failed to {verb} {unit}.service: Unit {unit}.service not found.", file=sys.stderr)
                code = 5
                continue
            if verb in ("stop", "restart"):
                stop_service(state, host, unit)
            if verb in ("start", "restart") and not (verb == "start" and pid):
                start_service(state, host, unit)
        elif verb == "status":
            if not known:
                print(f"Unit {unit}.service could not be found.", file=sys.stderr)
                code = 4
                continue
            _status(state, host, unit, pid, lines)
            code = code or (0 if pid else 3)
        elif verb == "show":
            main_pid = str(pid or 0)
            for prop in props or ["MainPID", "ActiveState"]:
                val = (
                    main_pid
                    if prop == "MainPID"
                    else ("active" if pid else "inactive")
                    if prop == "ActiveState"
                    else f"{unit}.service"
                    if prop == "Id"
                    else ""
                )
                print(val if value else f"{prop}={val}")
        else:
            raise Fail(f"systemctl (lab): unknown verb {verb!r}", 1)
    return code


def _status(state: State, host: str, unit: str, pid: int | None, lines: int) -> None:
    print(f"● {unit}.service - {unit} (opsbot lab demo on {host})")
    print(f"     Loaded: loaded ({state.host_dir(host, 'units', unit + '.service')}; enabled; preset: enabled)")
    if pid:
        since = os.stat(state.pidfile(host, unit)).st_mtime
        ago = int(time.time() - since)
        print(
            f"     Active: active (running) since {time.strftime('%a %Y-%m-%d %H:%M:%S %Z', time.localtime(since))}; "
            f"{ago // 60}min {ago % 60}s ago"
        )
        print(f"   Main PID: {pid} (python3)")
    else:
        print("     Active: inactive (dead)")
    tail = _tail(state.logfile(host, unit), lines)
    if tail:
        print()
        print("\n".join(tail))


def _tail(path: str, n: int) -> list[str]:
    if n <= 0:
        return []
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode(errors="replace")
    except OSError:
        return []
    return data.splitlines()[-n:]


def sudo(state: State, argv: list[str]) -> int:
    """`sudo -n CMD...`: the lab's SSH user already is the user the commands run as; run CMD as is,
    with the lab PATH (real sudo would reset PATH and bypass the shims)."""
    it = list(argv)
    while it and it[0].startswith("-"):
        opt = it.pop(0)
        if opt == "--":
            break
        if opt in ("-u", "--user"):
            user = it.pop(0) if it else ""
            if user not in ("root", os.environ.get("USER", "")):
                raise Fail(f"sudo (lab): runs commands only as the SSH user, not {user!r}", 1)
        elif opt not in ("-n", "--non-interactive", "-H", "-E"):
            raise Fail(f"sudo (lab): option {opt} is not supported", 1)
    if not it:
        raise Fail("usage: sudo -n command [args...]", 1)
    os.execvp(it[0], it)
    return 127


def _since(spec: str, now: float) -> float:
    spec = spec.strip()
    if spec.startswith("@"):
        return float(spec[1:])
    if spec in ("today", "yesterday"):
        t = time.localtime(now)
        midnight = time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))
        return midnight - (86400 if spec == "yesterday" else 0)
    m = re.fullmatch(r"-(\d+)\s*(s|sec|m|min|h|d|w)|(\d+)\s*(second|minute|hour|day|week)s? ago", spec)
    if m:
        n = int(m.group(1) or m.group(3))
        unit = (m.group(2) or m.group(4))[0]
        return now - n * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    ts = demo.parse_timestamp(spec)
    if ts is None:
        raise Fail(f"Failed to parse timestamp: {spec}", 1)
    return ts


def _duration(spec: str) -> float:
    m = re.fullmatch(r"(\d+)\s*(s|m|min|h|d|w|months?|y)?", spec.strip())
    if not m:
        raise Fail(f"Failed to parse time specification: {spec}", 1)
    unit = m.group(2) or "s"
    return (
        int(m.group(1))
        * {
            "s": 1,
            "m": 60,
            "min": 60,
            "h": 3600,
            "d": 86400,
            "w": 604800,
            "month": 2629800,
            "months": 2629800,
            "y": 31557600,
        }[unit]
    )


def journalctl(state: State, argv: list[str]) -> int:
    host = target_host(state)
    units, since, output, lines, vacuum = [], None, "short", None, None
    it = iter(argv)
    for a in it:
        key, _, val = a.partition("=")
        if key in ("-u", "--unit"):
            units.append(_unit(val or next(it, "")))
        elif key in ("-S", "--since"):
            since = val or next(it, "")
        elif key in ("-o", "--output"):
            output = val or next(it, "")
        elif key in ("-n", "--lines"):
            lines = int(val or next(it, "10"))
        elif key == "--vacuum-time":
            vacuum = val or next(it, "")
        elif key in ("--no-pager", "-q", "--quiet", "--no-hostname", "-a", "--all"):
            continue
        else:
            raise Fail(f"journalctl (lab): option {a} is not supported", 1)
    if vacuum is not None:
        return _vacuum(state, host, _duration(vacuum))
    now = time.time()
    start = _since(since, now) if since else None
    out: list[str] = []
    for unit in units or list(state.hosts[host].get("services", {})):
        if state.service(host, unit) is None:
            continue
        for path in (state.logfile(host, unit) + ".1", state.logfile(host, unit)):
            try:
                with open(path, errors="replace") as f:
                    for line in f:
                        ts = demo.parse_timestamp(line, now)
                        if ts is None or (start is not None and ts < start):
                            continue
                        out.append(_journal_line(ts, host, unit, line.rstrip("\n"), output))
            except FileNotFoundError:
                continue
    if lines is not None:
        out = out[-lines:]
    if not out and "-q" not in argv and "--quiet" not in argv:
        print("-- No entries --")
    if out:
        sys.stdout.write("\n".join(out) + "\n")
    return 0


_SYSLOG_PREFIX = re.compile(r"^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ (\S+\[\d+\]): (.*)$")


def _journal_line(ts: float, host: str, unit: str, line: str, output: str) -> str:
    """A journal entry as journalctl prints it: a syslog-style file line keeps its identifier and
    message; other formats become the message of `unit[1]`."""
    m = _SYSLOG_PREFIX.match(line)
    ident, message = (m.group(1), m.group(2)) if m else (f"{unit}[1]", line)
    if output == "cat":
        return message
    st = time.localtime(ts)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z", st) if output == "short-iso" else time.strftime("%b %d %H:%M:%S", st)
    return f"{stamp} {host} {ident}: {message}"


def _vacuum(state: State, host: str, keep_seconds: float) -> int:
    jdir = state.host_dir(host, "journal")
    cutoff, freed = time.time() - keep_seconds, 0
    for name in sorted(os.listdir(jdir)) if os.path.isdir(jdir) else []:
        path = os.path.join(jdir, name)
        st = os.stat(path)
        if name.endswith(".journal") and "@" in name and st.st_mtime < cutoff:
            os.remove(path)
            freed += st.st_size
            print(f"Deleted archived journal {path} ({st.st_size / 1048576:.1f}M).")
    print(f"Vacuuming done, freed {freed / 1048576:.1f}M of archived journals from {jdir}.")
    return 0


def apt_get(state: State, argv: list[str]) -> int:
    host = target_host(state)
    words = [a for a in argv if not a.startswith("-")]
    if words != ["clean"]:
        raise Fail("E: the lab apt-get only does 'clean'", 100)
    archives = state.host_dir(host, "var", "cache", "apt", "archives")
    for name in os.listdir(archives) if os.path.isdir(archives) else []:
        if name.endswith(".deb"):
            os.remove(os.path.join(archives, name))
    return 0


VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")


def llmctl(state: State, argv: list[str]) -> int:
    host = target_host(state)
    if len(argv) < 2 or argv[0] not in ("scale", "deploy", "rollback", "status"):
        raise Fail(
            "usage: llmctl scale DEPLOYMENT N | deploy DEPLOYMENT VERSION | "
            "rollback DEPLOYMENT [VERSION|previous] | status DEPLOYMENT",
            2,
        )
    verb, dep, rest = argv[0], argv[1], argv[2:]
    info = state.deployments.get(dep)
    if info is None or info["host"] != host:
        raise Fail(f"llmctl: there is no deployment {dep!r} on {host}", 1)
    versions = _versions(state, host, dep)
    if verb == "status":
        pids = replicas(state, host, dep)
        print(
            f"{dep}: version {versions[-1]}, {len(pids)} replicas running"
            + (f" (pids {', '.join(map(str, pids.values()))})" if pids else "")
        )
        return 0
    if verb == "scale":
        if len(rest) != 1 or not rest[0].isdigit() or int(rest[0]) > 64:
            raise Fail("llmctl: scale wants a replica count between 0 and 64", 2)
        before = len(replicas(state, host, dep))
        pids = _scale(state, host, dep, int(rest[0]), versions[-1])
        print(
            f"{dep}: scaled from {before} to {len(pids)} replicas"
            + (f" (pids {', '.join(map(str, pids.values()))})" if pids else "")
        )
        return 0
    if verb == "deploy":
        if len(rest) != 1 or not VERSION.match(rest[0]):
            raise Fail("llmctl: deploy wants one version (letters, digits, '.', '_', '+', '-')", 2)
        old, new = versions[-1], rest[0]
        if new == old:
            print(f"{dep}: {new} is already deployed")
            return 0
        versions.append(new)
    else:  # rollback
        want = rest[0] if rest else "previous"
        if len(versions) < 2:
            raise Fail(f"llmctl: {dep} has no earlier version to roll back to (history: {', '.join(versions)})", 1)
        old = versions[-1]
        if want == "previous":
            versions.pop()
        elif want in versions[:-1]:
            del versions[max(i for i, v in enumerate(versions[:-1]) if v == want) + 1 :]
        else:
            raise Fail(f"llmctl: {dep} never ran {want}; earlier versions: {', '.join(versions[:-1])}", 1)
        new = versions[-1]
    _save_versions(state, host, dep, versions)
    count = len(replicas(state, host, dep))
    _scale(state, host, dep, 0, new)
    pids = _scale(state, host, dep, count, new)
    action = "deployed" if verb == "deploy" else "rolled back to"
    print(f"{dep}: {action} {new} (was {old}); restarted {len(pids)} replicas")
    return 0


def _versions(state: State, host: str, dep: str) -> list[str]:
    try:
        with open(state.versions_file(host, dep)) as f:
            versions = [v.strip() for v in f if v.strip()]
    except FileNotFoundError:
        versions = []
    return versions or list(state.deployments[dep].get("versions") or ["1.0"])


def _save_versions(state: State, host: str, dep: str, versions: list[str]) -> None:
    path = state.versions_file(host, dep)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(versions) + "\n")
    os.replace(path + ".tmp", path)
    with open(os.path.join(os.path.dirname(path), "history.log"), "a") as f:
        f.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} {versions[-1]}\n")


def replicas(state: State, host: str, dep: str) -> dict[int, int]:
    """Replica index -> pid of the running replicas (stale pidfiles are removed)."""
    rdir = state.replica_dir(host, dep)
    out = {}
    for name in sorted(os.listdir(rdir)) if os.path.isdir(rdir) else []:
        if name.endswith(".pid"):
            pid = read_pid(os.path.join(rdir, name))
            if pid:
                out[int(name[:-4])] = pid
            else:
                os.remove(os.path.join(rdir, name))
    return out


def _scale(state: State, host: str, dep: str, n: int, version: str) -> dict[int, int]:
    current = replicas(state, host, dep)
    rdir = state.replica_dir(host, dep)
    for index in sorted(current)[n:]:
        terminate(current.pop(index))
        os.remove(os.path.join(rdir, f"{index}.pid"))
    index = 1
    while len(current) < n:
        if index not in current:
            current[index] = spawn(
                state,
                os.path.join(rdir, f"{index}.pid"),
                ["--host", host, "--service", dep, "--kind", "replica", "--version", version],
                os.path.join(rdir, f"{index}.out"),
            )
        index += 1
    return dict(sorted(current.items()))


def scale_replicas(state: State, host: str, dep: str, n: int) -> dict[int, int]:
    """Start or stop replica processes until `n` run (the lab uses it to start each deployment)."""
    return _scale(state, host, dep, n, _versions(state, host, dep)[-1])


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in TOOLS:
        print(f"usage: labctl.py LAB_DIR {{{','.join(TOOLS)}}} ARGS...", file=sys.stderr)
        return 2
    state = State(argv[0])
    tool = {"systemctl": systemctl, "sudo": sudo, "journalctl": journalctl, "llmctl": llmctl, "apt-get": apt_get}[
        argv[1]
    ]
    try:
        return tool(state, argv[2:])
    except Fail as e:
        print(str(e), file=sys.stderr)
        return e.code
    except BrokenPipeError:
        return 141


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
