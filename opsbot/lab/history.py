"""History for a fresh lab, so that questions over time (`when will disk on db-1 fill up`, `memory on web-1
last 3h`) work on the first try: the last few hours of this machine's disk and memory use, one sample a
minute per lab host, as OpenMetrics for `promtool tsdb create-blocks-from openmetrics` (see backfill in
prometheus.py). The values are the machine's own, so the history joins the live node_exporter series
without a jump."""

from __future__ import annotations

import os
from pathlib import Path

HOURS = 3  # a 7-day forecast, queried at one point every 30m, needs an hour
STEP = 60


def _memory() -> tuple[int, int]:
    """(total, available) bytes from /proc/meminfo; a plausible pair where there is none."""
    info: dict[str, int] = {}
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, rest = line.partition(":")
            info[key] = int(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    total = info.get("MemTotal", 8 << 30)
    return total, info.get("MemAvailable", total // 2)


def recent_history(hosts: list[str], now: int, instance: str, hours: int = HOURS) -> str:
    """OpenMetrics text: disk and memory gauges for `hosts`, from `hours` before `now` to a minute before it,
    labelled as the lab scrapes node_exporter (job "node", its `instance`; disk queries take the max per
    host, so the filesystem's own labels need not match the live ones)."""
    node = f'job="node",instance="{instance}"'
    fs = f'{node},fstype="ext4",mountpoint="/",device="lab"'
    disk = os.statvfs("/")
    size, avail = disk.f_blocks * disk.f_frsize, disk.f_bavail * disk.f_frsize
    total, available = _memory()
    times = range(now - hours * 3600, now - STEP + 1, STEP)
    families = {
        "node_filesystem_size_bytes": (fs, size),
        "node_filesystem_avail_bytes": (fs, avail),
        "node_memory_MemTotal_bytes": (node, total),
        "node_memory_MemAvailable_bytes": (node, available),
    }
    out = []
    for name, (labels, v) in families.items():
        out.append(f"# TYPE {name} gauge")
        for host in hosts:
            out += [f'{name}{{host="{host}",{labels}}} {v} {t}' for t in times]
    return "\n".join(out) + "\n# EOF\n"
