"""Benchmarks of the SSH and logs executors on the lab (`make bench` calls these; or
`python -m benchmarks.lab [SIZE_MB]` runs them on a lab of its own and prints JSON).

- bench_fanout: one command on 20 hosts vs on 1 host, wall clock (target ≤ 2.0×).
- bench_warm: a command on a warm pooled connection vs a cold one (connect + auth) (target ≤ 0.3×).
- bench_logsearch: a search through a generated log of SIZE_MB via LogsExecutor vs plain `grep -F -c`
  over SSH (target ≤ 1.15×), and the bot's peak memory during the search (target ≤ 150 MB).
"""

from __future__ import annotations

import json
import shlex
import statistics
import sys
import time
from typing import Any

from opsbot.config.models import LogSource
from opsbot.core.action import Action, ExecutionContext, Target
from opsbot.core.reply import Reply
from opsbot.executors.logs import LogsExecutor
from opsbot.executors.ssh import SSHExecutor
from opsbot.lab.lab import Lab
from opsbot.lab.samplelogs import write_big_log
from opsbot.testing.memory import reset_peak_rss, vm_kb


def _targets(lab: Lab, n: int) -> list[Target]:
    """n hosts on the lab's sshd: its extra hosts when it has enough, else ad-hoc names."""
    names = lab.extra_hosts[:n] if len(lab.extra_hosts) >= n else [f"bench-{i:02d}" for i in range(1, n + 1)]
    return [Target(name=name, address="127.0.0.1", port=lab.ssh_port, user=lab.user) for name in names]


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _median_runs(fn, rounds: int) -> float:
    return statistics.median(_timed(fn) for _ in range(rounds))


def _check_all_ok(results) -> None:
    bad = [r for r in results if not r.ok]
    if bad:
        raise RuntimeError(f"bench command failed on {bad[0].target.name}: {bad[0].fault or bad[0].stderr}")


def bench_fanout(lab: Lab, hosts: int = 20, command: str = "sleep 0.5; uname -n", rounds: int = 3) -> dict:
    """Wall clock of `command` on `hosts` hosts at once vs on one host (warm pool, lab max_parallel).
    Also reported: the same for a trivial command, where sshd's per-session work on this one machine
    (fork, login shell) dominates instead of the command."""
    config = lab.config()
    targets = _targets(lab, hosts)
    ex = SSHExecutor(config)
    try:

        def many(cmd):
            _check_all_ok(ex.run_many(targets, lambda t: cmd))

        def one(cmd):
            _check_all_ok(ex.run_many(targets[:1], lambda t: cmd))

        many(command)  # warm the pool
        out: dict[str, dict[str, Any]] = {}
        for label, cmd in (("command", command), ("trivial", "uname -n")):
            t_one = _median_runs(lambda cmd=cmd: one(cmd), rounds)
            t_many = _median_runs(lambda cmd=cmd: many(cmd), rounds)
            out[label] = {
                "command": cmd,
                "one_host_s": round(t_one, 4),
                "many_hosts_s": round(t_many, 4),
                "ratio": round(t_many / t_one, 3),
            }
        connections = ex.pool.open_count()
    finally:
        ex.close()
    ratio = out["command"]["ratio"]
    return {
        "bench": "ssh_fanout",
        "hosts": hosts,
        "max_parallel": config.ssh.max_parallel,
        "pooled_connections": connections,
        **out["command"],
        "trivial": out["trivial"],
        "target_ratio": 2.0,
        "ok": ratio <= 2.0,
    }


def bench_warm(lab: Lab, command: str = "uname -n", rounds: int = 7) -> dict:
    """The same command on a fresh executor (TCP + SSH handshake + auth) vs on a warm pooled connection."""
    config = lab.config()
    target = _targets(lab, 1)[0]
    cold_times = []
    for _ in range(rounds):
        ex = SSHExecutor(config)
        try:
            cold_times.append(_timed(lambda ex=ex: _check_all_ok([ex.execute(target, command)])))
        finally:
            ex.close()
    ex = SSHExecutor(config)
    try:
        ex.execute(target, command)
        warm = _median_runs(lambda: _check_all_ok([ex.execute(target, command)]), rounds)
    finally:
        ex.close()
    cold = statistics.median(cold_times)
    return {
        "bench": "ssh_warm",
        "command": command,
        "cold_s": round(cold, 4),
        "warm_s": round(warm, 4),
        "ratio": round(warm / cold, 3),
        "target_ratio": 0.3,
        "ok": warm / cold <= 0.3,
    }


def bench_logsearch(lab: Lab, size_mb: int = 1024, rounds: int = 3, host: str = "db-1") -> dict:
    """Search a generated `size_mb` log on a lab host through LogsExecutor (count on the host, window
    filter, first lines) vs `grep -F -c` over SSH on the same file, both with a warm page cache."""
    path = lab.host_dir(host) / "log" / "bench.log"
    needle = "needle-bench"
    start = time.perf_counter()
    expected = write_big_log(path, size_mb * 1024 * 1024, needle=needle, every=1000, old_head=True)
    generated_s = time.perf_counter() - start
    config = lab.config().model_copy(deep=True)
    config.logs.sources["bench"] = LogSource(files=[str(path)])
    target = Target(name=host, address="127.0.0.1", port=lab.ssh_port, user=lab.user)
    # The file starts two days ago and ends now: a 1h window checks every matching line's time, a 7d
    # window sees that the first line is already inside it and only counts.
    actions = {
        window: Action(
            executor="logs",
            intent="logs.search",
            rule_id="bench",
            fields={"mode": "search"},
            params={"pattern": needle, "service": "bench", "window": window, "window_seconds": seconds},
            targets=[target],
        )
        for window, seconds in (("1h", 3600), ("7d", 7 * 86400))
    }
    ctx = ExecutionContext(config=config)
    baseline_cmd = f"LC_ALL=C grep -F -c -- {shlex.quote(needle)} {shlex.quote(str(path))}"
    ex = LogsExecutor(config)
    try:
        warmup = ex.ssh.execute(target, f"cat {shlex.quote(str(path))} > /dev/null", timeout=600)
        _check_all_ok([warmup])
        times: dict[str, list[float]] = {"grep": [], "1h": [], "7d": []}
        counted: dict[str, int] = {}
        rss_before = vm_kb("VmRSS")
        reset_peak_rss()
        for _ in range(rounds):
            times["grep"].append(_timed(lambda: _check_all_ok([ex.ssh.execute(target, baseline_cmd, timeout=600)])))
            for window, action in actions.items():
                replies: list[Reply] = []
                times[window].append(_timed(lambda replies=replies, action=action: replies.append(ex.run(action, ctx))))
                counted[window] = int(replies[0].tables[0].rows[0][1]) if replies[0].tables else -1
        peak = vm_kb("VmHWM")
    finally:
        ex.close()
        path.unlink(missing_ok=True)
    t_plain = statistics.median(times["grep"])
    t_1h, t_7d = statistics.median(times["1h"]), statistics.median(times["7d"])
    ratio = max(t_1h, t_7d) / t_plain
    return {
        "bench": "logs_search",
        "size_mb": size_mb,
        "generated_s": round(generated_s, 2),
        "matches": counted,
        "expected_matches": expected,
        "grep_over_ssh_s": round(t_plain, 3),
        "logs_executor_1h_s": round(t_1h, 3),
        "logs_executor_7d_s": round(t_7d, 3),
        "ratio_1h": round(t_1h / t_plain, 3),
        "ratio_7d": round(t_7d / t_plain, 3),
        "target_ratio": 1.15,
        "rss_before_mb": round(rss_before / 1024, 1),
        "peak_rss_mb": round(peak / 1024, 1),
        "rss_growth_mb": round((peak - rss_before) / 1024, 1),
        "target_peak_rss_mb": 150,
        "ok": set(counted.values()) == {expected} and ratio <= 1.15 and peak / 1024 <= 150,
    }


def main(argv: list[str]) -> int:
    size = int(argv[0]) if argv else 1024
    with Lab.start(extra_hosts=20, prometheus=False) as lab:
        for result in (bench_fanout(lab), bench_warm(lab), bench_logsearch(lab, size_mb=size)):
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
