"""Incidents: Alertmanager's webhook into `opsbot serve` (a real subprocess, HTTP mode) and the fake Slack
Web API, on loopback ports.

- `bench_first_post(n)`: for `n` new alert groups sent one after another, the time from the webhook
  being sent to the group's message arriving at Slack (the diagnosis excluded: the alert matches no
  alert rule). Target p99 <= 1 s.
- `bench_storm(groups, seconds)`: `groups` new groups sent over `seconds` (with `alertmanager.storm: 2`):
  how many top-level Slack posts that makes (target <= 3: two groups, then one summary), whether every
  group reached the store, and the bot's peak RSS (target <= 200 MB).

    python -m benchmarks.incidents
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from opsbot.testing import fake_slack as fs
from opsbot.testing.alert_payloads import alert, notification, send
from opsbot.testing.serve import ServeProcess, clean_env

TOKEN = "bench-token"
CHANNEL = "C0BENCHALERTS"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def _serve(directory: Path, api: fs.FakeSlackWebAPI, storm: int) -> ServeProcess:
    config = directory / "bench.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "alertmanager": {"token": TOKEN, "channel": CHANNEL, "storm": storm},
                "parser": {"default": "offline"},
            }
        )
    )
    env = clean_env(
        SLACK_BOT_TOKEN=fs.BOT_TOKEN,
        SLACK_SIGNING_SECRET=fs.SIGNING_SECRET,
        SLACK_API_URL=api.base_url,
        OPSBOT_DATABASE_URL=f"sqlite:///{directory / 'bench.db'}",
    )
    return ServeProcess.start(config, env, directory / "serve.log", workers=4)


def _group(i: int, tag: str) -> dict:
    labels = {"alertname": "BenchAlert", "instance": f"{tag}-{i}:9100", "severity": "warning"}
    return notification([alert(labels)], group_labels={"alertname": "BenchAlert", "instance": labels["instance"]})


def _top_posts(api: fs.FakeSlackWebAPI) -> list[fs.Call]:
    return [c for c in api.calls("chat.postMessage") if not c.params.get("thread_ts")]


def _peak_rss_mb(pid: int) -> float:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmHWM:"):
            return int(row.split()[1]) / 1024
    return float("nan")


def bench_first_post(n: int = 40) -> dict:
    """p50/p99 (ms) from sending a new group's webhook to its Slack message arriving."""
    with tempfile.TemporaryDirectory(prefix="opsbot-bench-") as tmp, fs.FakeSlackWebAPI() as api:
        server = _serve(Path(tmp), api, storm=10_000)
        try:
            url = server.url("/alertmanager")
            send(url, _group(0, "warm"), TOKEN)  # the first request warms imports and connections
            deadline = time.monotonic() + 60
            while len(_top_posts(api)) < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            latencies = []
            for i in range(n):
                before = len(_top_posts(api))
                started = time.monotonic()
                status, _body = send(url, _group(i, "first"), TOKEN)
                if status != 200:
                    raise RuntimeError(f"the webhook answered {status}")
                while len(_top_posts(api)) <= before:
                    if time.monotonic() - started > 30:
                        raise RuntimeError("no Slack post within 30 s")
                    time.sleep(0.002)
                latencies.append((_top_posts(api)[before].at - started) * 1000)
        finally:
            server.stop()
    return {"n": n, "p50_ms": _percentile(latencies, 50), "p99_ms": _percentile(latencies, 99)}


def bench_storm(groups: int = 200, seconds: float = 10.0, storm: int = 2) -> dict:
    """Posts, groups kept and peak RSS for `groups` new groups sent evenly over `seconds`."""
    with tempfile.TemporaryDirectory(prefix="opsbot-bench-") as tmp, fs.FakeSlackWebAPI() as api:
        directory = Path(tmp)
        server = _serve(directory, api, storm=storm)
        try:
            url = server.url("/alertmanager")
            started = time.monotonic()

            def fire(i: int) -> int:
                delay = started + i * seconds / groups - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                return send(url, _group(i, "storm"), TOKEN)[0]

            with ThreadPoolExecutor(max_workers=8) as pool:
                statuses = list(pool.map(fire, range(groups)))
            sent_s = time.monotonic() - started
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and server.health().get("pending", 1) > 0:
                time.sleep(0.05)
            with sqlite3.connect(directory / "bench.db") as db:
                kept = db.execute("SELECT count(*) FROM alert_groups").fetchone()[0]
            rss = _peak_rss_mb(server.proc.pid)
            posts = len(_top_posts(api))
        finally:
            server.stop()
    return {
        "groups": groups,
        "sent_in_s": sent_s,
        "accepted": sum(1 for s in statuses if s == 200),
        "kept": kept,
        "lost": groups - kept,
        "posts": posts,
        "peak_rss_mb": rss,
    }


if __name__ == "__main__":
    print(json.dumps({"first_post": bench_first_post(), "storm": bench_storm()}, indent=1))
