"""Ack latency of `opsbot serve` in HTTP mode while its executors are busy.

`bench_ack(n=50)` starts a fake Slack Web API and `opsbot serve` (a real subprocess) on loopback ports,
occupies every worker with requests whose executor hangs (Prometheus and SSH both point at a local
"tarpit" that accepts connections and never answers), then sends `n` signed slash commands at once
and measures, for each, the time until Slack would have its acknowledgement (the HTTP response).
Slack needs it within 3 s; the target here is p99 <= 100 ms.

    python -m benchmarks.slack [N]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from opsbot.testing import fake_slack as fs
from opsbot.testing.serve import ServeProcess, clean_env
from opsbot.testing.tarpit import Tarpit

TARGET_P99_MS = 100.0
WORKERS = 4


def _config(directory: Path, tarpit: int) -> Path:
    known_hosts = directory / "known_hosts"
    known_hosts.write_text("")
    data = {
        "inventory": {
            "hosts": {
                f"web-{i}": {"address": "127.0.0.1", "port": tarpit, "services": ["nginx"], "groups": ["web"]}
                for i in (1, 2)
            }
        },
        "access": {"default_roles": ["operator"]},
        "ssh": {"connect_timeout": 30, "command_timeout": 30, "known_hosts": str(known_hosts)},
        "prometheus": {"url": f"http://127.0.0.1:{tarpit}", "timeout": 30},
        "parser": {"default": "offline"},
    }
    path = directory / "bench.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def bench_ack(n: int = 50, workers: int = WORKERS) -> dict:
    """p50/p99 ack latency (ms) of `n` concurrent signed slash commands while every worker is busy."""
    with tempfile.TemporaryDirectory(prefix="opsbot-bench-") as tmp, fs.FakeSlackWebAPI() as api:
        directory = Path(tmp)
        tarpit = Tarpit()
        env = clean_env(
            SLACK_BOT_TOKEN=fs.BOT_TOKEN,
            SLACK_SIGNING_SECRET=fs.SIGNING_SECRET,
            SLACK_API_URL=api.base_url,
            OPSBOT_DATABASE_URL=f"sqlite:///{directory / 'bench.db'}",
        )
        try:
            with ServeProcess.start(
                _config(directory, tarpit.port), env, directory / "serve.log", workers=workers
            ) as server:
                slack = fs.SignedPoster(server.url(), fs.SIGNING_SECRET)
                # 1. make every worker busy with a request whose executor hangs on the tarpit
                busy = [
                    slack.command(
                        fs.slash_command(f"cpu on web-{1 + i % 2} last 1h", user=f"UBUSY{i}", channel="C0BENCH")
                    )
                    for i in range(workers)
                ]
                deadline = time.monotonic() + 10
                while len(tarpit.held) < workers and time.monotonic() < deadline:
                    time.sleep(0.05)
                # 2. n slash commands at once
                barrier = threading.Barrier(n)

                def one(i: int):
                    body = fs.command_body(fs.slash_command("help", user=f"U{i:04d}", channel="C0BENCH"))
                    barrier.wait()
                    return slack.post(body)

                with ThreadPoolExecutor(max_workers=n) as pool:
                    results = list(pool.map(one, range(n)))
                pending = server.health().get("pending")
        finally:
            tarpit.stop()
    ms = [r.seconds * 1000 for r in results]
    p99 = _percentile(ms, 99)
    return {
        "n": n,
        "workers": workers,
        "busy_requests": len(busy),
        "executors_blocked": len(tarpit.held),
        "pending_after": pending,
        "ok": sum(r.status == 200 for r in results),
        "acked_working": sum("Working on it" in r.body for r in results),
        "p50_ms": round(statistics.median(ms), 1),
        "p99_ms": round(p99, 1),
        "max_ms": round(max(ms), 1),
        "target_p99_ms": TARGET_P99_MS,
        "meets_target": p99 <= TARGET_P99_MS and all(r.status == 200 for r in results),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    result = bench_ack(int(argv[0]) if argv else 50)
    print(json.dumps(result, indent=2))
    return 0 if result["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
