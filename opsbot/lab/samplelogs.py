"""Sample log files for the lab's demo services: the current file, a rotated `.1` and a gzipped
`.2.gz`, in each service's own timestamp format, with old and recent entries, planted lines that tests
and demos can look for, error lines with variable parts, and a few secrets for the redactor.

Planted in every service's logs (counts per host and service; times relative to the lab's start):

| text                         | where      | when                  | count |
|------------------------------|------------|-----------------------|-------|
| needle-recent                | current    | 25, 15, 5 min ago     | 3     |
| needle-3h                    | current    | 3 h ago               | 1     |
| needle-yesterday             | .1         | 20 h ago              | 2     |
| needle-old                   | .2.gz      | 2 days ago            | 2     |
| `'; touch /tmp/pwned #`      | current    | 10 min ago            | 1     |
| `$(id) | rm -rf * && echo`   | current    | 11 min ago            | 1     |
| secret-demo (with secrets)   | current    | 20 min ago            | 3     |
| ERRORS[service][0]           | current    | last hour             | 7     |
| ERRORS[service][1]           | current    | last hour             | 4     |
| ERRORS[service][0]           | .1         | 10 h ago              | 3     |

The running demo services only append routine lines and a "cache refresh failed" error, never these.
"""

from __future__ import annotations

import gzip
import os
import random
from pathlib import Path

from opsbot.lab.demo_service import ROUTINE, STYLE, format_line

METACHAR_LINES = ["'; touch /tmp/pwned #", "$(id) | rm -rf * && echo"]

SECRETS = [
    "secret-demo login ok for user=alice password=hunter2",
    "secret-demo upstream call with Authorization: Bearer abcdef0123456789abcdef0123456789",
    "secret-demo loaded api_key=sk-lab-0123456789abcdefghijABCDEFGH from env",
]

# Two error templates per service, with variable parts ({n} number, {h} hex id, {ip} address).
ERRORS: dict[str, list[tuple[str, str]]] = {
    "nginx": [
        (
            "error",
            "upstream timed out (110: Connection timed out) while reading response header from upstream, "
            'client: {ip}, server: web, request: "GET /api/v1/orders/{n} HTTP/1.1"',
        ),
        (
            "crit",
            "connect() to 127.0.0.1:8080 failed (111: Connection refused) while connecting to upstream, client: {ip}",
        ),
    ],
    "api": [
        ("ERROR", "payment failed for order {n}: upstream returned 502 (request_id=req-{h})"),
        ("ERROR", "Exception in handler /api/v1/users/{n}: KeyError: 'email'"),
    ],
    "postgresql": [
        ("ERROR", 'duplicate key value violates unique constraint "orders_pkey" (id={n})'),
        ("FATAL", "terminating connection due to idle-in-transaction timeout (pid {n})"),
    ],
    "redis": [
        ("ERROR", "Error accepting a client connection from {ip}: connection reset (fd={n})"),
        ("ERROR", "Background saving error: Failed opening .rdb for saving: No space left on device ({n})"),
    ],
    "vllm": [
        ("ERROR", "Engine loop has died for request {h}: CUDA out of memory. Tried to allocate {n}.00 MiB"),
        ("ERROR", "Exception in worker process: RuntimeError: NCCL watchdog timeout after {n} ms"),
    ],
    "llm-gateway": [
        ("ERROR", "upstream llama-chat returned 503 after {n}ms (request {h})"),
        ("ERROR", "panic: rate limiter bucket overflow for tenant t-{n}"),
    ],
}


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        n=rng.randint(10, 99999), h=f"{rng.getrandbits(32):08x}", ip=f"10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


def _routine(service: str, rng: random.Random) -> tuple[str, str]:
    level, text = rng.choice(ROUTINE.get(service, ROUTINE["api"]))
    return level, text.format(n=rng.randint(1, 9999), k=rng.randint(1, 900), r=rng.randint(1, 5))


def _planted_level(service: str) -> str:
    return "ACCESS" if service == "nginx" else "INFO"


def _lines(
    host: str,
    service: str,
    start: float,
    end: float,
    step: float,
    planted: list[tuple[float, str, str]],
    rng: random.Random,
) -> list[str]:
    style = STYLE.get(service, "syslog")
    pid = rng.randint(300, 30000)
    entries = [(t, *_routine(service, rng)) for t in _frange(start, end, step)]
    entries += planted
    entries.sort(key=lambda e: e[0])
    return [format_line(style, t, host, service, pid, level, text) for t, level, text in entries]


def _frange(start: float, end: float, step: float):
    t = start
    while t < end:
        yield t
        t += step


def write_sample_logs(log_dir: Path, host: str, service: str, now: float) -> Path:
    """Write <service>.log, .log.1 and .log.2.gz into log_dir; returns the current file."""
    rng = random.Random(f"{host}/{service}")
    log_dir.mkdir(parents=True, exist_ok=True)
    info = _planted_level(service)
    (err_a_level, err_a), (err_b_level, err_b) = ERRORS.get(service, ERRORS["api"])
    minute, hour = 60.0, 3600.0

    current = [(now - m * minute, info, f"search for needle-recent #{i}") for i, m in enumerate((25, 15, 5), 1)]
    current += [(now - 3 * hour, info, "search for needle-3h")]
    current += [(now - (10 + i) * minute, info, f"search q={text}") for i, text in enumerate(METACHAR_LINES)]
    current += [(now - 20 * minute - i, info, text) for i, text in enumerate(SECRETS)]
    current += [(now - (50 - 6 * i) * minute - 7, err_a_level, _fill(err_a, rng)) for i in range(7)]
    current += [(now - (47 - 9 * i) * minute - 3, err_b_level, _fill(err_b, rng)) for i in range(4)]
    rotated1 = [(now - 20 * hour - i * minute, info, "search for needle-yesterday") for i in range(2)]
    rotated1 += [(now - 10 * hour - i * minute, err_a_level, _fill(err_a, rng)) for i in range(3)]
    rotated2 = [(now - 48 * hour - i * minute, info, "search for needle-old") for i in range(2)]

    path = log_dir / f"{service}.log"
    path.write_text("\n".join(_lines(host, service, now - 6 * hour, now - minute, 30, current, rng)) + "\n")
    one = log_dir / f"{service}.log.1"
    one.write_text("\n".join(_lines(host, service, now - 30 * hour, now - 6 * hour, 120, rotated1, rng)) + "\n")
    os.utime(one, (now - 6 * hour, now - 6 * hour))
    two = log_dir / f"{service}.log.2.gz"
    with gzip.open(two, "wt", compresslevel=1) as f:
        f.write("\n".join(_lines(host, service, now - 96 * hour, now - 30 * hour, 300, rotated2, rng)) + "\n")
    os.utime(two, (now - 30 * hour, now - 30 * hour))
    return path


def write_host_clutter(host_dir: Path, now: float) -> None:
    """Archived journals and package files for `disk.cleanup` to remove (sparse: no real disk used)."""
    journal = host_dir / "journal"
    journal.mkdir(parents=True, exist_ok=True)
    for days in (12, 9, 2):
        p = journal / f"system@0000{days:02d}-{int(now) - days * 86400:x}.journal"
        with open(p, "wb") as f:
            f.truncate(8 * 1024 * 1024)
        os.utime(p, (now - days * 86400, now - days * 86400))
    with open(journal / "system.journal", "wb") as f:
        f.truncate(8 * 1024 * 1024)
    archives = host_dir / "var" / "cache" / "apt" / "archives"
    archives.mkdir(parents=True, exist_ok=True)
    for name in ("nginx_1.22.1-9_amd64.deb", "libssl3_3.0.15-1_amd64.deb", "python3.11_3.11.2-6_amd64.deb"):
        with open(archives / name, "wb") as f:
            f.truncate(2 * 1024 * 1024)


def write_big_log(
    path: Path, size_bytes: int, needle: str, every: int = 1000, now: float | None = None, old_head: bool = False
) -> int:
    """A log of about `size_bytes` (ISO timestamps in the last minutes) where every `every`-th line holds
    `needle`; written block-wise so 1 GB takes seconds. `old_head`: the first line is two days old (so a
    window search has to check lines one by one). Returns how many lines hold the needle."""
    import time

    now = time.time() if now is None else now
    rng = random.Random(7)
    lines = []
    for i in range(20_000):
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now - 300 + i * 0.01))
        text = f"handled GET /api/v1/items/{rng.randint(1, 99999)} in {rng.randint(1, 900)}ms status=200"
        if i % every == every - 1:
            text = f"lookup {needle} for tenant t-{rng.randint(1, 999)}"
        lines.append(f"{ts}.{i % 1000:03d}Z INFO api[{1000 + i % 50}]: {text}")
    block = ("\n".join(lines) + "\n").encode()
    per_block = sum(1 for ln in lines if needle in ln)
    blocks = max(1, size_bytes // len(block))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        if old_head:
            f.write(
                time.strftime("%Y-%m-%dT%H:%M:%S.000Z INFO api[1]: started\n", time.gmtime(now - 2 * 86400)).encode()
            )
        for _ in range(blocks):
            f.write(block)
    return blocks * per_block
