"""A demo service of the lab: one small process per (host, service).

It serves GET /metrics in the Prometheus text format on a loopback port (generic services count
`http_requests_total{code=...}`; vLLM services export the real vLLM metric names per model) and
appends log lines in its service's format to its log file. It exits on SIGTERM, or when the lab
directory or the process running the lab disappears, so a lab that was not stopped cleanly (a killed
test run) does not leave it behind.

Stdlib only: the lab starts it as `python -I -S demo_service.py ...` (fast start, no site-packages),
and `labctl.py` imports its log formats the same way.
"""

from __future__ import annotations

import argparse
import calendar
import math
import os
import random
import re
import signal
import socket
import sys
import threading
import time

# ------------------------------------------------------------------------------------------ log formats

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# Which timestamp format each demo service writes (the formats a log search must understand).
STYLE = {
    "nginx": "nginx",
    "api": "syslog",
    "postgresql": "postgres",
    "redis": "syslog",
    "vllm": "pylog",
    "llm-gateway": "json",
}


def _local(ts: float) -> time.struct_time:
    return time.localtime(ts)


def _offset(st: time.struct_time) -> str:
    off = st.tm_gmtoff or 0
    sign = "-" if off < 0 else "+"
    off = abs(off)
    return f"{sign}{off // 3600:02d}{off % 3600 // 60:02d}"


def format_line(style: str, ts: float, host: str, service: str, pid: int, level: str, message: str) -> str:
    """One log line as the service would write it at `ts` (local time where the format has no zone)."""
    st = _local(ts)
    ms = int(ts * 1000) % 1000
    if style == "nginx":
        if level == "ACCESS":  # access log: [25/Nov/2026:13:55:01 +0000]
            return (
                f"10.0.{pid % 250}.{ms % 250} - - [{st.tm_mday:02d}/{MONTHS[st.tm_mon - 1]}/{st.tm_year}:"
                f"{st.tm_hour:02d}:{st.tm_min:02d}:{st.tm_sec:02d} {_offset(st)}] {message}"
            )
        # error log: 2026/11/25 13:55:01 [error] 123#0: message
        return (
            f"{st.tm_year}/{st.tm_mon:02d}/{st.tm_mday:02d} {st.tm_hour:02d}:{st.tm_min:02d}:{st.tm_sec:02d} "
            f"[{level.lower()}] {pid}#0: {message}"
        )
    if style == "syslog":  # Nov 25 13:55:01 web-1 api[1234]: ERROR message
        return (
            f"{MONTHS[st.tm_mon - 1]} {st.tm_mday:2d} {st.tm_hour:02d}:{st.tm_min:02d}:{st.tm_sec:02d} "
            f"{host} {service}[{pid}]: {level} {message}"
        )
    if style == "postgres":  # 2026-11-25 13:55:01.123 UTC [1234] ERROR:  message
        u = time.gmtime(ts)
        return (
            f"{u.tm_year}-{u.tm_mon:02d}-{u.tm_mday:02d} {u.tm_hour:02d}:{u.tm_min:02d}:{u.tm_sec:02d}.{ms:03d} "
            f"UTC [{pid}] {level}:  {message}"
        )
    if style == "pylog":  # 2026-11-25 13:55:01,123 ERROR vllm.engine: message (local time)
        return (
            f"{st.tm_year}-{st.tm_mon:02d}-{st.tm_mday:02d} {st.tm_hour:02d}:{st.tm_min:02d}:{st.tm_sec:02d},{ms:03d} "
            f"{level} {service}.engine: {message}"
        )
    if style == "json":  # {"ts":"2026-11-25T13:55:01.123Z","level":"error",...}
        u = time.gmtime(ts)
        msg = message.replace("\\", "\\\\").replace('"', '\\"')
        return (
            f'{{"ts":"{u.tm_year}-{u.tm_mon:02d}-{u.tm_mday:02d}T{u.tm_hour:02d}:{u.tm_min:02d}:{u.tm_sec:02d}.{ms:03d}Z",'
            f'"level":"{level.lower()}","service":"{service}","host":"{host}","msg":"{msg}"}}'
        )
    raise ValueError(f"unknown log style {style!r}")


_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,]\d+)?(?: ?(Z|UTC|GMT|[+-]\d\d:?\d\d))?")
_NGINX = re.compile(r"\[(\d\d)/([A-Z][a-z]{2})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-]\d{4})\]")
_SLASH = re.compile(r"^(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)")
_SYSLOG = re.compile(r"^([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d)")


def _zone(z: str | None) -> int | None:
    if not z:
        return None
    if z in ("Z", "UTC", "GMT"):
        return 0
    z = z.replace(":", "")
    return (1 if z[0] == "+" else -1) * (int(z[1:3]) * 3600 + int(z[3:5]) * 60)


def _epoch(y: int, mo: int, d: int, h: int, mi: int, s: int, zone: int | None) -> float:
    if zone is None:
        return time.mktime((y, mo, d, h, mi, s, 0, 0, -1))
    return float(calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) - zone)


def parse_timestamp(line: str, now: float | None = None) -> float | None:
    """The time a log line was written, for the formats above; None when it carries none."""
    m = _ISO.search(line)
    if m:
        y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
        return _epoch(y, mo, d, h, mi, s, _zone(m.group(7)))
    m = _NGINX.search(line)
    if m:
        return _epoch(
            int(m.group(3)),
            MONTHS.index(m.group(2)) + 1,
            int(m.group(1)),
            int(m.group(4)),
            int(m.group(5)),
            int(m.group(6)),
            _zone(m.group(7)),
        )
    m = _SLASH.match(line)
    if m:
        y, mo, d, h, mi, s = (int(x) for x in m.groups())
        return _epoch(y, mo, d, h, mi, s, None)
    m = _SYSLOG.match(line)
    if m and m.group(1) in MONTHS:
        now = time.time() if now is None else now
        year = time.localtime(now).tm_year
        args = (MONTHS.index(m.group(1)) + 1, int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5)))
        ts = _epoch(year, *args, None)
        return _epoch(year - 1, *args, None) if ts > now + 86400 else ts
    return None


# What a running service logs: mostly routine lines, now and then a warning or an error whose
# template differs from the ones planted in the sample files (so tests can count those exactly).
ROUTINE = {
    "nginx": [
        ("ACCESS", '"GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29"'),
        ("ACCESS", '"GET /static/app.{n}.js HTTP/1.1" 200 {k} "-" "Mozilla/5.0"'),
    ],
    "api": [("INFO", "handled GET /api/v1/items/{n} in {k}ms")],
    "postgresql": [("LOG", "checkpoint complete: wrote {n} buffers ({k} ms)")],
    "redis": [("INFO", "DB saved on disk ({n} keys, {k} ms)")],
    "vllm": [("INFO", "Avg prompt throughput: {n}.{k} tokens/s, Running: {r} reqs")],
    "llm-gateway": [("INFO", "routed completion to {n} in {k}ms")],
}
RUNTIME_ERROR = ("ERROR", "cache refresh failed after {k} ms (attempt {r})")


def runtime_line(service: str, rng: random.Random) -> tuple[str, str]:
    level, text = RUNTIME_ERROR if rng.random() < 0.1 else rng.choice(ROUTINE.get(service, ROUTINE["api"]))
    return level, text.format(n=rng.randint(1, 9999), k=rng.randint(1, 900), r=rng.randint(1, 5))


# ------------------------------------------------------------------------------------------ metrics

VLLM_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0]


def _lognormal_cdf(x: float, median: float = 1.2, sigma: float = 0.6) -> float:
    return 0.5 * (1 + math.erf((math.log(x) - math.log(median)) / (sigma * math.sqrt(2))))


def count_replicas(lab: str, host: str, model: str) -> int:
    rdir = os.path.join(lab, "hosts", host, "llm", model, "replicas")
    try:
        return sum(1 for name in os.listdir(rdir) if name.endswith(".pid"))
    except OSError:
        return 0


def metrics_text(args: argparse.Namespace, started: float, now: float) -> str:
    up = max(0.0, now - started)
    out = [
        "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.",
        "# TYPE process_start_time_seconds gauge",
        f"process_start_time_seconds {started:.3f}",
        "# HELP lab_service_info The demo service and its version.",
        "# TYPE lab_service_info gauge",
        f'lab_service_info{{service="{args.service}",version="{args.version}"}} 1',
    ]
    if args.kind == "vllm":
        wobble = 0.5 + 0.5 * math.sin(now / 30)
        gauges: dict[str, list[str]] = {
            "vllm:num_requests_running": [],
            "vllm:num_requests_waiting": [],
            "vllm:gpu_cache_usage_perc": [],
        }
        counters, hist = [], []
        for model in args.models:
            replicas = count_replicas(args.lab, args.host, model)
            label = f'model_name="{model}"'
            gauges["vllm:num_requests_running"].append(f"{{{label}}} {round(replicas * (2 + 4 * wobble))}")
            gauges["vllm:num_requests_waiting"].append(f"{{{label}}} {round(3 * wobble) if replicas else 0}")
            gauges["vllm:gpu_cache_usage_perc"].append(f"{{{label}}} {0.35 + 0.4 * wobble:.3f}")
            total = int(up * 3 * max(replicas, 0))
            counters.append(f'vllm:request_success_total{{finished_reason="stop",{label}}} {total}')
            for le in VLLM_BUCKETS:
                hist.append(
                    f'vllm:e2e_request_latency_seconds_bucket{{le="{le}",{label}}} {int(total * _lognormal_cdf(le))}'
                )
            hist.append(f'vllm:e2e_request_latency_seconds_bucket{{le="+Inf",{label}}} {total}')
            hist.append(f"vllm:e2e_request_latency_seconds_sum{{{label}}} {total * 1.43:.3f}")
            hist.append(f"vllm:e2e_request_latency_seconds_count{{{label}}} {total}")
        helps = {
            "vllm:num_requests_running": "Number of requests currently running on GPU.",
            "vllm:num_requests_waiting": "Number of requests waiting to be processed.",
            "vllm:gpu_cache_usage_perc": "GPU KV-cache usage. 1 means 100 percent usage.",
        }
        for name, samples in gauges.items():
            out += [f"# HELP {name} {helps[name]}", f"# TYPE {name} gauge"] + [name + s for s in samples]
        out += [
            "# HELP vllm:request_success_total Count of successfully processed requests.",
            "# TYPE vllm:request_success_total counter",
            *counters,
        ]
        out += [
            "# HELP vllm:e2e_request_latency_seconds Histogram of end to end request latency in seconds.",
            "# TYPE vllm:e2e_request_latency_seconds histogram",
            *hist,
        ]
    else:
        out += [
            "# HELP http_requests_total Requests handled, by status code.",
            "# TYPE http_requests_total counter",
            f'http_requests_total{{code="200"}} {int(up * 5)}',
            f'http_requests_total{{code="404"}} {int(up * 0.3)}',
            f'http_requests_total{{code="500"}} {int(up * 0.1)}',
        ]
    return "\n".join(out) + "\n"


def serve_metrics(sock: socket.socket, args: argparse.Namespace, started: float) -> None:
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=_answer, args=(conn, args, started), daemon=True).start()


def _answer(conn: socket.socket, args: argparse.Namespace, started: float) -> None:
    with conn:
        conn.settimeout(5)
        try:
            request = b""
            while b"\r\n\r\n" not in request and len(request) < 16384:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                request += chunk
            path = request.split(b" ", 2)[1] if request.count(b" ") >= 2 else b"/"
            if path.split(b"?")[0] == b"/metrics":
                status, ctype, body = (
                    "200 OK",
                    "text/plain; version=0.0.4",
                    metrics_text(args, started, time.time()).encode(),
                )
            elif path == b"/healthz":
                status, ctype, body = "200 OK", "text/plain", b"ok\n"
            else:
                status, ctype, body = "404 Not Found", "text/plain", b"not found\n"
            conn.sendall(
                f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n".encode()
                + body
            )
        except OSError:
            pass


# ------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="opsbot lab demo service")
    p.add_argument("--lab", required=True)
    p.add_argument("--owner", type=int, default=0, help="exit when this process (the lab) is gone")
    p.add_argument("--host", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--kind", choices=["generic", "vllm", "replica"], default="generic")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", default="")
    p.add_argument("--models", default="")
    p.add_argument("--version", default="1.0")
    p.add_argument("--interval", type=float, default=2.0)
    args = p.parse_args(argv)
    args.models = [m for m in args.models.split(",") if m]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    started = time.time()
    if args.port:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", args.port))
        sock.listen(64)
        threading.Thread(target=serve_metrics, args=(sock, args, started), daemon=True).start()
    rng = random.Random()
    style = STYLE.get(args.service, "syslog")
    pid = os.getpid()

    def log(level: str, message: str) -> None:
        if args.log:
            with open(args.log, "a") as f:
                f.write(format_line(style, time.time(), args.host, args.service, pid, level, message) + "\n")

    log("INFO" if style != "nginx" else "notice", f"started {args.service} version {args.version} (pid {pid})")
    while os.path.isdir(args.lab) and (not args.owner or os.path.exists(f"/proc/{args.owner}")):
        time.sleep(args.interval)
        if args.kind != "replica":
            log(*runtime_line(args.service, rng))
    return 0


if __name__ == "__main__":
    sys.exit(main())
