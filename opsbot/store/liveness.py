"""Who runs an execution, and whether that process still lives.

An owner token is `host:pid:start`, the process's start time (from /proc) telling a pid reused by a
new process apart from the one that started the execution. On the same host a dead owner is certain;
for another host only its heartbeat can tell, so there an owner is dead once its heartbeat is stale."""

from __future__ import annotations

import os
import socket
from functools import lru_cache
from pathlib import Path

HEARTBEAT_SECONDS = 30.0  # how often a running execution says it is alive
STALE_SECONDS = 180.0  # no heartbeat for this long: the owner on another host is taken for dead


def _start_ticks(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # field 22 (starttime), counted after the command name, which may itself hold spaces and ')'
    return stat.rsplit(")", 1)[1].split()[19]


@lru_cache(maxsize=1)
def _host() -> str:
    return socket.gethostname()


def current_owner() -> str:
    """This process's owner token (computed each time, so a forked child gets its own)."""
    pid = os.getpid()
    return f"{_host()}:{pid}:{_start_ticks(pid) or '?'}"


def owner_alive(owner: str | None) -> bool | None:
    """True/False when this host can tell (the owner ran here), None when only a heartbeat can."""
    if not owner:
        return None
    host, _, rest = owner.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != _host() or not pid_text.isdigit():
        return None
    now_start = _start_ticks(int(pid_text))
    if now_start is None:
        return False
    return start in ("?", now_start)
